#!/usr/bin/env python3
"""Map the GPU models of data/gpu-compat.tsv to PCI vendor/device IDs.

Reads the GPU compatibility chart (vendor, family, model, ...) and the
system pci.ids database, and writes:

  data/gpu-pci-ids.tsv            vendor_id device_id pci_name vendor family model
  data/gpu-pci-ids-unmatched.tsv  vendor family model reason

Matching favours precision over recall: a model gets a device ID only when
the bracketed marketing name of a pci.ids GPU entry names exactly that model
(after normalisation) and the chip codename of that entry belongs to the
chart family.  native_device_id values of the chart are taken as given.
Manual fixes come from tools/gpu-pci-overrides.tsv, applied last.

Usage: gpu-pci-map.py [--compat FILE] [--pci-ids FILE] [--overrides FILE]
                      [--out FILE] [--unmatched FILE] [--review]

Python 3 standard library only; output is deterministic (sorted, LF).
"""

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DEFAULT_COMPAT = '/work/shared/data/gpu-compat.tsv'
REPO_COMPAT = os.path.join(ROOT, 'data', 'gpu-compat.tsv')
DEFAULT_PCI_IDS = '/usr/share/misc/pci.ids'
DEFAULT_OVERRIDES = os.path.join(HERE, 'gpu-pci-overrides.tsv')
DEFAULT_OUT = os.path.join(ROOT, 'data', 'gpu-pci-ids.tsv')
DEFAULT_UNMATCHED = os.path.join(ROOT, 'data', 'gpu-pci-ids-unmatched.tsv')

VENDOR_IDS = {'AMD': '1002', 'NVIDIA': '10de'}

# pci.ids device entries that are not the GPU function, or not a real
# retail part, never take part in matching.
SKIP_ENTRY_RE = re.compile(
    r'audio|hdmi|usb|ucsi|serial|engineering sample|\bfake\b|\(secondary\)',
    re.I)

# ---------------------------------------------------------------------------
# Chip codenames.
#
# AMD: every codename that may appear before the bracket of a GPU entry.
# A pci.ids entry is accepted for a chart family only if at least one known
# codename occurs in its codename text and every codename that occurs there
# belongs to the family's set.
AMD_CODENAMES = [
    # TeraScale 1 (R700)
    'R700', 'RV770', 'RV790', 'RV730', 'RV740', 'RV710', 'RV711',
    # TeraScale 2 (Evergreen)
    'Cypress', 'Hemlock', 'Juniper', 'Redwood', 'Cedar', 'Broadway',
    'Madison', 'Park', 'Pinewood', 'Granville', 'Lexington', 'Robson',
    # TeraScale 2/3 (Northern Islands)
    'Barts', 'Turks', 'Caicos', 'Cayman', 'Antilles', 'Blackcomb',
    'Whistler', 'Seymour', 'Onega', 'Thames',
    # TeraScale APUs
    'Sumo', 'SuperSumo', 'Wrestler', 'Trinity', 'Richland',
    # GCN 1 (Southern Islands) and its mobile parts
    'Tahiti', 'Pitcairn', 'Cape Verde', 'Oland', 'Hainan', 'Malta',
    'New Zealand', 'Curacao', 'Trinidad', 'Wimbledon', 'Neptune',
    'Heathrow', 'Chelsea', 'Venus', 'Tropo', 'Mars', 'Opal', 'Sun', 'Jet',
    'Exo', 'Banks',
    # GCN 2 (Sea Islands) and APUs
    'Hawaii', 'Grenada', 'Bonaire', 'Saturn', 'Tobago', 'Emerald', 'Strato',
    'Vesuvius', 'Kaveri', 'Kabini', 'Temash', 'Mullins', 'Beema', 'Godavari',
    # GCN 3 (Volcanic Islands) and APUs
    'Tonga', 'Antigua', 'Fiji', 'Amethyst', 'Iceland', 'Topaz', 'Meso',
    'Weston', 'Carrizo', 'Stoney', 'Wani',
    # GCN 4 (Polaris)
    'Ellesmere', 'Baffin', 'Lexa', 'Polaris 10', 'Polaris 11', 'Polaris 12',
    'Polaris 20', 'Polaris 21', 'Polaris 22', 'Polaris 23', 'Polaris 30',
    # GCN 5 (Vega) and APUs
    'Vega 10', 'Vega 12', 'Vega 20', 'Raven', 'Raven2', 'Picasso', 'Renoir',
    'Cezanne', 'Lucienne', 'Barcelo',
    # RDNA
    'Navi 10', 'Navi 12', 'Navi 14', 'Navi 21', 'Navi 22', 'Navi 23',
    'Navi 24', 'Navi 31', 'Navi 32', 'Navi 33',
    'Van Gogh', 'Rembrandt', 'Raphael', 'Mendocino', 'Granite Ridge',
    'Dragon Range', 'Phoenix', 'Phoenix1', 'Phoenix2', 'Hawk Point',
    # CDNA
    'Arcturus', 'Aldebaran', 'MI200', 'Aqua Vanjaram', 'MI300',
]

AMD_FAMILY_CODENAMES = {
    'Navi 23': {'Navi 23'},
    'Navi 22': {'Navi 22'},
    'Navi 21': {'Navi 21'},
    'Navi 14': {'Navi 14'},
    'Navi 10': {'Navi 10'},
    'Navi 2X and Navi 3X': {'Navi 21', 'Navi 22', 'Navi 23', 'Navi 24',
                            'Navi 31', 'Navi 32', 'Navi 33'},
    'Vega 20': {'Vega 20'},
    'Vega 10': {'Vega 10'},
    'Polaris 20, 21 & 30 (RX 500 Series)': {
        'Ellesmere', 'Baffin', 'Polaris 20', 'Polaris 21', 'Polaris 30'},
    'Polaris 10 & 11 (RX 400 & Pro Series)': {
        'Ellesmere', 'Baffin', 'Polaris 10', 'Polaris 11'},
    'Lexa Core based GPUs': {'Lexa', 'Polaris 12'},
    'GCN 3': {'Tonga', 'Antigua', 'Fiji', 'Amethyst'},
    'GCN 2': {'Hawaii', 'Grenada', 'Bonaire', 'Saturn', 'Tobago', 'Emerald',
              'Strato', 'Vesuvius'},
    'R7 / R9 Series (GCN 1)': {'Tahiti', 'Pitcairn', 'Cape Verde', 'Oland',
                               'Malta', 'New Zealand', 'Curacao', 'Trinidad',
                               'Venus', 'Tropo'},
    'HD 8000 Series (GCN)': {'Tahiti', 'Pitcairn', 'Cape Verde', 'Oland',
                             'Bonaire', 'Malta', 'Curacao', 'Neptune',
                             'Venus', 'Tropo', 'Mars'},
    'HD 7000 Series (GCN)': {'Tahiti', 'Pitcairn', 'Cape Verde', 'Malta',
                             'New Zealand', 'Bonaire', 'Wimbledon',
                             'Heathrow', 'Chelsea'},
    'TeraScale 2 & 3 (HD 6000 Series)': {
        'Cayman', 'Antilles', 'Barts', 'Turks', 'Caicos', 'Blackcomb',
        'Whistler', 'Seymour', 'Onega', 'Thames', 'Juniper', 'Redwood',
        'Cedar', 'Granville', 'Lexington', 'Madison', 'Robson', 'Pinewood'},
    'TeraScale 2 (HD 5000 Series)': {
        'Cypress', 'Hemlock', 'Juniper', 'Redwood', 'Cedar', 'Broadway',
        'Madison', 'Park', 'Pinewood', 'Barts', 'Turks', 'Caicos'},
    'TeraScale 1 (HD 4000 Series)': {
        'R700', 'RV770', 'RV790', 'RV730', 'RV740', 'RV710', 'RV711'},
    'Phoenix': {'Phoenix', 'Phoenix1', 'Phoenix2', 'Hawk Point'},
    'Van Gogh, Rembrandt, Raphael, Granite Ridge, Dragon Range, Rembrandt+, '
    'Rembrandt-R, Mendocino, etc.': {
        'Van Gogh', 'Rembrandt', 'Raphael', 'Granite Ridge', 'Dragon Range',
        'Mendocino'},
    'Kaveri, Kabini, Mullins, Carrizo and Stoney Ridge': {
        'Kaveri', 'Godavari', 'Kabini', 'Temash', 'Mullins', 'Beema',
        'Carrizo', 'Stoney', 'Wani'},
    'Iceland/Topaz dGPUs': {'Iceland', 'Topaz', 'Meso', 'Weston'},
    'Hainan dGPUs': {'Hainan', 'Sun', 'Jet', 'Exo', 'Banks'},
    'Instinct MI* (Aldebaran, Arcturus, Aqua Vanjaram, etc)': {
        'Arcturus', 'Aldebaran', 'MI200', 'Aqua Vanjaram', 'MI300'},
}

# Chart families whose parts are all mobile: there "Mobile" in a pci.ids
# name does not tell a different product apart.
MOBILE_FAMILIES = {'Hainan dGPUs', 'Iceland/Topaz dGPUs'}

# NVIDIA: the chip code (first word of the codename, e.g. GK104GL, GM204M)
# must start with the family's prefix.
NVIDIA_FAMILY_CHIPS = {
    'Tesla': r'(?:g8\d|g9\d|gt2\d\d)',
    'Fermi 1.0 (GF10X)': r'gf10\d',
    'Fermi 2.0 (GF11X)': r'gf11\d',
    'Kepler': r'gk\d',
    'Maxwell': r'gm\d',
    'Pascal': r'gp\d',
    'Volta': r'gv\d',
    'Turing (RTX 20XX / GTX 16XX)': r'tu\d',
    'Ampere (RTX 30XX)': r'ga\d',
    'Ada Lovelace (RTX 40XX)': r'ad\d',
    'Hopper (H100/H200)': r'gh\d',
    'Blackwell (RTX 50XX)': r'gb\d',
}
# A chip code ending in M (GK104M, GM107GLM, GP106BM, G96CM) is a notebook
# chip; the chart's NVIDIA models are all desktop cards.
NVIDIA_MOBILE_CHIP_RE = re.compile(r'^[a-z]+\d+[a-z]*m$')


def _codename_re(name):
    words = re.split(r'\s+', name.lower())
    body = r'\s*'.join(re.escape(w) for w in words)
    return re.compile(r'(?<![a-z0-9])' + body + r'(?![a-z0-9])')


AMD_CODENAME_RES = [(c, _codename_re(c)) for c in AMD_CODENAMES]


def amd_codenames_in(text):
    t = text.lower().replace('-', ' ').replace('/', ' ')
    found = set()
    for name, rx in AMD_CODENAME_RES:
        if rx.search(t):
            found.add(name)
    # "Polaris 20" also contains no "Polaris 2"; "Raven2" contains "Raven"
    # only by prefix, which the look-arounds already exclude.
    return found


def nvidia_chips_in(text):
    chips = []
    for part in re.split(r'[\s/]+', text.strip()):
        p = part.lower()
        if re.match(r'^(?:nv|g|gt|gf|gk|gm|gp|gv|tu|ga|ad|gh|gb|c)\d', p):
            chips.append(p)
    return chips


# ---------------------------------------------------------------------------
# Name normalisation.

NOISE_WORDS = {'amd', 'ati', 'nvidia', 'radeon', 'geforce'}
# Words that may start an item and carry its series / product line.
PREFIX_WORDS = {
    'radeon', 'geforce', 'amd', 'ati', 'nvidia', 'rx', 'r2', 'r3', 'r4', 'r5',
    'r6', 'r7', 'r8', 'r9', 'hd', 'pro', 'firepro', 'firegl', 'firestream',
    'firemv', 'mobility', 'instinct', 'quadro', 'tesla', 'gtx', 'gts', 'gt',
    'rtx', 'nvs', 'titan', 'grid', 'vega', 'fx', 'go', 'pcx', 'wx'}
# Words that, alone, only modify the model named just before them.
SUFFIX_WORDS = {
    'xt', 'xtx', 'xtxh', 'xl', 'pro', 'gt', 'gto', 'gts', 'gs', 'gx2', 'le',
    'se', 'ultra', 'ti', 'super', 'x', 'x2', 'boost', 'ghz', 'oem', 'mobile',
    'series', 'duo', 'gre', 'xe', 've', 'zt'}
# Words spread from the last item of a slash group to all its items.
SPREAD_WORDS = {'mobile'}
# Suffixes written glued to a number ("5700XT", "5200LE").
GLUED_SUFFIX_RE = re.compile(r'^([a-z]?\d+)(xtxh|xtx|xt|ti|le|se|gre)$')


def normalise(name, mobile_soft=False):
    """Canonical comparison key of one expanded model name."""
    s = name.lower()
    s = s.replace('(tm)', ' ').replace('\u00ae', ' ')
    s = re.sub(r'\brev\.?\s*[0-9a-z]+\b', ' ', s)      # Rev. 2, Rev. A
    s = re.sub(r'\b\d+\s?gb\b', ' ', s)                # 6GB, 8 GB
    s = re.sub(r'\bmac edition\b', ' ', s)
    s = re.sub(r'\blite hash rate\b|\bgddr6x?\b', ' ', s)   # LHR / memory
    s = re.sub(r'\bada generation\b', 'ada', s)
    s = re.sub(r'\bgtx titan\b', 'titan', s)
    toks = []
    for t in s.split():
        if t in NOISE_WORDS or t in ('oem', 'series', 'pcie', 'edition',
                                     'v2'):
            continue
        if mobile_soft and t == 'mobile':
            continue
        m = GLUED_SUFFIX_RE.match(t)
        if m:
            toks.extend([m.group(1), m.group(2)])
            continue
        # "7900 M" -> "7900m" (mobile / S-suffix written apart)
        if t in ('m', 's') and toks and toks[-1][-1:].isdigit():
            toks[-1] += t
            continue
        toks.append(t)
    return ' '.join(toks)


def _is_model_token(tok):
    return (any(ch.isdigit() for ch in tok)
            and tok.lower() not in PREFIX_WORDS)


def _split_item(tokens):
    """Return (prefix tokens, model tokens) of one item."""
    for i, t in enumerate(tokens):
        if _is_model_token(t):
            return tokens[:i], tokens[i:]
    if len(tokens) > 1:
        return tokens[:-1], tokens[-1:]
    return [], tokens


def _is_suffix_item(tokens):
    return (bool(tokens) and not any(_is_model_token(t) for t in tokens)
            and all(t.lower() in SUFFIX_WORDS for t in tokens))


def _starts_own(tokens):
    return bool(tokens) and tokens[0].lower() in PREFIX_WORDS


def expand_names(text, compat=False):
    """Expand a slash-abbreviated list of model names.

    Segments are separated by " / ", items inside a segment by "/".
    An item that starts with a series word (Radeon, RX, R9, GTX, Pro, ...)
    carries its own prefix; an item starting with a number (or a bare name)
    takes the prefix of the item before it ("RX 6600/6600 XT/6600M" gives
    RX 6600, RX 6600 XT, RX 6600M); an item made only of suffix words
    ("XT", "Super", "OEM") modifies the model before it.  A segment that
    starts with a bare number yields both the inherited and the bare form
    ("Radeon R7 M340 / 530" gives R7 M340, R7 530 and 530), since pci.ids
    is not consistent there.
    """
    out = []
    seg_prefixes = []      # prefix alternatives left by the last segment
    seg_items = []         # item alternatives left by the last segment
    for seg in re.split(r'\s+/\s+', text.strip()):
        items = [i.strip() for i in seg.split('/') if i.strip()]
        group = []         # per item: list of token-list alternatives
        prefixes = []
        bases = []
        for idx, item in enumerate(items):
            toks = item.split()
            if _is_suffix_item(toks):
                src = bases if idx > 0 else seg_items
                alts = []
                for b in src:
                    if compat:
                        alts.append(b + toks)
                    else:
                        pre, mod = _split_item(b)
                        alts.append(pre + mod[:1] + toks)
                if not alts:
                    alts = [toks]
                group.append(alts)
                continue
            if _starts_own(toks):
                alts = [toks]
            elif idx > 0 and prefixes:
                alts = [pre + toks for pre in prefixes]
            elif idx == 0 and seg_prefixes:
                alts = [pre + toks for pre in seg_prefixes] + [toks]
            else:
                alts = [toks]
            uniq = []
            for a in alts:
                if a not in uniq:
                    uniq.append(a)
            alts = uniq
            prefixes = []
            for a in alts:
                pre = _split_item(a)[0]
                if pre not in prefixes:
                    prefixes.append(pre)
            bases = alts
            group.append(alts)
        # spread a trailing "Mobile" to the whole slash group
        if group:
            last = group[-1][0]
            spread = [t for t in last[-1:] if t.lower() in SPREAD_WORDS]
            if spread:
                for alts in group[:-1]:
                    for a in alts:
                        if not a or a[-1].lower() not in SPREAD_WORDS:
                            a.extend(spread)
        for alts in group:
            for a in alts:
                out.append(' '.join(a))
        if prefixes:
            seg_prefixes = prefixes
        if bases:
            seg_items = bases
    return out


# ---------------------------------------------------------------------------
# Chart model parsing.

def parse_compat_model(model):
    """Return dict(names=[...], cores=[...], ids=[...], generic=bool)."""
    res = {'names': [], 'cores': [], 'ids': [], 'generic': False}
    if '*' in model or re.search(r'\(tm\)\s*graphics$', model, re.I):
        res['generic'] = True
        return res
    s = model
    optional = ['']
    # parentheticals, innermost-aware: "(XT(X))", "(GK110 core)", "(0x665D)"
    while True:
        m = re.search(r'\(((?:[^()]|\([^()]*\))*)\)', s)
        if not m:
            break
        inner = m.group(1).strip()
        s = (s[:m.start()] + ' ' + s[m.end():]).strip()
        cm = re.match(r'^(.*?)\s+core(?:\s+only)?$', inner, re.I)
        if cm:
            for c in cm.group(1).split('/'):
                c = re.sub(r'-\d+$', '', c.strip()).lower()
                if c:
                    res['cores'].append(c)
        elif re.match(r'^0x[0-9a-f]{4}$', inner, re.I):
            res['ids'].append(inner[2:].lower())
        elif inner.upper() == 'OEM':
            s += ' OEM'
        elif re.match(r'^XT(\(X\))?$', inner, re.I):
            optional = ['', ' XT'] + ([' XTX'] if '(' in inner else [])
        else:
            s += ' ' + inner
    s = re.sub(r'\s+', ' ', s).strip()
    names = []
    for opt in optional:
        base = s
        # "RX 7700 M/S" -> RX 7700 M, RX 7700 S
        ms = re.match(r'^(.*\d) ([MS])/([MS])$', base)
        variants = ([ms.group(1) + ' ' + ms.group(2),
                     ms.group(1) + ' ' + ms.group(3)] if ms else [base])
        for v in variants:
            for n in expand_names(v + opt, compat=True):
                names.append(n)
    res['names'] = names
    return res


# ---------------------------------------------------------------------------
# Input.

def read_tsv(path):
    with open(path, encoding='utf-8', newline='') as f:
        lines = f.read().split('\n')
    lines = [l.rstrip('\r') for l in lines if l.strip() != '']
    header = lines[0].split('\t')
    rows = []
    for ln, l in enumerate(lines[1:], start=2):
        cols = l.split('\t')
        if len(cols) < len(header):
            cols += [''] * (len(header) - len(cols))
        rows.append(dict(zip(header, cols), _line=ln))
    return header, rows


def read_pci_ids(path, vendor_ids):
    """Return ({vendor_id: {device_id: name}}, version string)."""
    devs = {v: {} for v in vendor_ids}
    version = ''
    cur = None
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('#'):
                m = re.match(r'#\s*Version:\s*(\S+)', line)
                if m:
                    version = m.group(1)
                continue
            if line.startswith('C '):
                break
            m = re.match(r'^([0-9a-f]{4})  (.*)$', line)
            if m:
                cur = m.group(1)
                continue
            m = re.match(r'^\t([0-9a-f]{4})  (.*)$', line)
            if m and cur in devs:
                devs[cur][m.group(1)] = m.group(2).strip()
    return devs, version


def split_pci_name(name):
    """'Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]' -> (codename, market)."""
    m = re.match(r'^(.*?)\s*\[(.*)\]\s*(.*)$', name)
    if not m:
        return name.strip(), ''
    return m.group(1).strip(), m.group(2).strip()


# ---------------------------------------------------------------------------
# Matching.

def family_check(vendor, family, codename, cores):
    """Return (ok, why) for a pci.ids codename against a chart family."""
    if vendor == 'AMD':
        allowed = AMD_FAMILY_CODENAMES.get(family)
        if allowed is None:
            return False, 'family has no codename table'
        found = amd_codenames_in(codename)
        if not found:
            return False, 'unknown codename'
        bad = sorted(found - allowed)
        if bad:
            return False, 'codename ' + '/'.join(bad)
        return True, ''
    chips = nvidia_chips_in(codename)
    if not chips:
        return False, 'unknown chip'
    pat = NVIDIA_FAMILY_CHIPS.get(family)
    if pat is None:
        return False, 'family has no chip table'
    for c in chips:
        if not re.match(pat, c):
            return False, 'chip ' + c.upper()
        if NVIDIA_MOBILE_CHIP_RE.match(c):
            return False, 'notebook chip ' + c.upper()
    if cores and not any(c.startswith(k) for c in chips for k in cores):
        return False, 'chip ' + '/'.join(chips).upper() + ' not ' + \
            '/'.join(cores).upper()
    return True, ''


def build_index(devs, vendor):
    """key -> list of (device_id, codename, full name, mobile_soft_key)."""
    index = {}
    for dev_id, name in devs.items():
        if SKIP_ENTRY_RE.search(name):
            continue
        codename, market = split_pci_name(name)
        if not market:
            continue
        for n in expand_names(market):
            for soft in (False, True):
                key = normalise(n, mobile_soft=soft)
                if not key:
                    continue
                index.setdefault((soft, key), set()).add(
                    (dev_id, codename, name))
    return index


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--compat', default=DEFAULT_COMPAT)
    ap.add_argument('--pci-ids', default=DEFAULT_PCI_IDS)
    ap.add_argument('--overrides', default=DEFAULT_OVERRIDES)
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--unmatched', default=DEFAULT_UNMATCHED)
    ap.add_argument('--review', action='store_true',
                    help='print matches per family to stdout')
    ap.add_argument('compat_pos', nargs='?', help='gpu-compat.tsv')
    ap.add_argument('pci_pos', nargs='?', help='pci.ids')
    args = ap.parse_args(argv)
    compat_path = args.compat_pos or args.compat
    if (compat_path == DEFAULT_COMPAT and not os.path.exists(compat_path)
            and os.path.exists(REPO_COMPAT)):
        compat_path = REPO_COMPAT
    pci_path = args.pci_pos or args.pci_ids

    _, crows = read_tsv(compat_path)
    devs, pci_version = read_pci_ids(pci_path, VENDOR_IDS.values())
    indexes = {v: build_index(devs[vid], v) for v, vid in VENDOR_IDS.items()}

    models = {}
    for r in crows:
        vendor = r['vendor'].strip()
        if vendor not in VENDOR_IDS:
            sys.exit('%s:%d: unknown vendor %r' % (compat_path, r['_line'],
                                                   vendor))
        key = (vendor, r['family'], r['model'])
        ent = models.setdefault(key, {'native': set()})
        nid = r.get('native_device_id', '').strip().lower()
        if nid:
            if not re.match(r'^(0x)?[0-9a-f]{4}$', nid):
                sys.exit('%s:%d: bad native_device_id %r' %
                         (compat_path, r['_line'], nid))
            ent['native'].add(nid[-4:])

    matches = {}     # (vendor_id, device_id, vendor, family, model) -> name
    reasons = {}     # (vendor, family, model) -> reason
    for (vendor, family, model), ent in sorted(models.items()):
        vid = VENDOR_IDS[vendor]
        parsed = parse_compat_model(model)
        found = set()
        for nid in sorted(ent['native'] | set(parsed['ids'])):
            if nid in devs[vid]:
                found.add(nid)
                matches[(vid, nid, vendor, family, model)] = devs[vid][nid]
        if parsed['generic'] and not found:
            reasons[(vendor, family, model)] = \
                'generic name, names no single model'
            continue
        rejected = {}
        soft = family in MOBILE_FAMILIES
        for n in parsed['names']:
            key = normalise(n)
            if not key:
                continue
            for dev_id, codename, name in sorted(
                    indexes[vendor].get((soft, key), ())):
                ok, why = family_check(vendor, family, codename,
                                       parsed['cores'])
                if ok:
                    found.add(dev_id)
                    matches[(vid, dev_id, vendor, family, model)] = name
                else:
                    rejected[dev_id] = why
        if not found:
            if rejected:
                reasons[(vendor, family, model)] = (
                    'named in pci.ids only on entries outside this family: ' +
                    ', '.join('%s (%s)' % (d, w)
                              for d, w in sorted(rejected.items())))
            else:
                reasons[(vendor, family, model)] = (
                    'no pci.ids %s GPU entry names this model' % pci_version)

    apply_overrides(args.overrides, matches, reasons, models, devs)

    write_tsv(args.out,
              ['vendor_id', 'device_id', 'pci_name', 'vendor', 'family',
               'model'],
              sorted([(k[0], k[1], v, k[2], k[3], k[4])
                      for k, v in matches.items()],
                     key=lambda r: (r[0], r[1], r[4], r[5], r[3])))
    matched_models = {(k[2], k[3], k[4]) for k in matches}
    unmatched = sorted((m[0], m[1], m[2], reasons.get(m, 'no match'))
                       for m in models if m not in matched_models)
    write_tsv(args.unmatched, ['vendor', 'family', 'model', 'reason'],
              unmatched)

    for vendor in sorted(VENDOR_IDS):
        nm = sum(1 for m in models if m[0] == vendor and m in matched_models)
        nu = sum(1 for u in unmatched if u[0] == vendor)
        nr = sum(1 for k in matches if k[2] == vendor)
        sys.stderr.write('%s: %d models matched (%d id rows), %d unmatched\n'
                         % (vendor, nm, nr, nu))
    if args.review:
        review(matches)
    return 0


def apply_overrides(path, matches, reasons, models, devs):
    if not path or not os.path.exists(path):
        return
    header, rows = read_tsv(path)
    need = ['vendor_id', 'device_id', 'vendor', 'family', 'model', 'action']
    for col in need:
        if col not in header:
            sys.exit('%s: missing column %s' % (path, col))
    for r in rows:
        vid = r['vendor_id'].strip().lower()
        did = r['device_id'].strip().lower()
        mkey = (r['vendor'], r['family'], r['model'])
        where = '%s:%d' % (path, r['_line'])
        if mkey not in models:
            sys.exit('%s: no such chart model %r' % (where, mkey))
        if VENDOR_IDS.get(r['vendor']) != vid:
            sys.exit('%s: vendor_id %s does not belong to %s' %
                     (where, vid, r['vendor']))
        if not re.match(r'^[0-9a-f]{4}$', did):
            sys.exit('%s: bad device_id %r' % (where, did))
        key = (vid, did) + mkey
        if r['action'] == 'add':
            name = devs.get(vid, {}).get(did)
            if name is None:
                sys.stderr.write('%s: warning: %s:%s not in pci.ids\n' %
                                 (where, vid, did))
                name = '-'
            matches[key] = name
        elif r['action'] == 'remove':
            if key not in matches:
                sys.stderr.write('%s: warning: remove of absent match\n' %
                                 where)
            matches.pop(key, None)
            if not any(k[2:] == mkey for k in matches):
                reasons[mkey] = 'match removed by override (%s:%s)' % (vid,
                                                                       did)
        else:
            sys.exit('%s: action must be add or remove' % where)


def write_tsv(path, header, rows):
    for row in rows:
        for cell in row:
            if '\t' in cell or '\n' in cell or cell != cell.strip():
                sys.exit('refusing to write field %r' % cell)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8', newline='\n') as f:
        f.write('\t'.join(header) + '\n')
        for row in rows:
            f.write('\t'.join(row) + '\n')
    os.replace(tmp, path)


def review(matches):
    by_fam = {}
    for (vid, did, vendor, family, model), name in matches.items():
        by_fam.setdefault((vendor, family), []).append((model, did, name))
    for (vendor, family) in sorted(by_fam):
        print('== %s / %s' % (vendor, family))
        for model, did, name in sorted(by_fam[(vendor, family)]):
            print('   %-28s %s  %s' % (model, did, name))


if __name__ == '__main__':
    sys.exit(main())
