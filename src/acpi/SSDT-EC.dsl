/*
 * SSDT-EC: the dummy embedded controller for the legacy (MacPro5,1 and
 * older) profile, which needs no USBX. Darwin only.
 * Written for darwinkvm, SPDX-License-Identifier: MIT
 */
DefinitionBlock ("", "SSDT", 2, "DRWKVM", "Ec", 0x00001000)
{
    Scope (\_SB)
    {
        Device (EC)
        {
            Name (_HID, "ACID0001")
            Method (_STA, 0, NotSerialized)
            {
                If (_OSI ("Darwin"))
                {
                    Return (0x0F)
                }

                Return (Zero)
            }
        }
    }
}
