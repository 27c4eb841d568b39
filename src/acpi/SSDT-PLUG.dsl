/*
 * SSDT-PLUG: sets plugin-type 1 on the first processor so that macOS loads
 * X86PlatformPlugin and runs XCPM power management on the Cascade Lake CPU
 * model QEMU presents. QEMU's Q35 tables declare the processors as devices
 * \_SB.CPUS.Cnnn (ACPI0007); the _DSM answers only Darwin.
 * Written for darwinkvm, SPDX-License-Identifier: MIT
 */
DefinitionBlock ("", "SSDT", 2, "DRWKVM", "CpuPlug", 0x00003000)
{
    External (_SB_.CPUS.C000, DeviceObj)

    If (CondRefOf (\_SB.CPUS.C000))
    {
        Scope (\_SB.CPUS.C000)
        {
            Method (_DSM, 4, NotSerialized)
            {
                If (!_OSI ("Darwin"))
                {
                    Return (Buffer (One)
                    {
                         0x00
                    })
                }

                If ((Arg2 == Zero))
                {
                    Return (Buffer (One)
                    {
                         0x03
                    })
                }

                Return (Package (0x02)
                {
                    "plugin-type",
                    One
                })
            }
        }
    }
}
