"""The named training sets, with each image's licence, author and source.

    python training/datasets.py [research|open|open-sa]...     counts per licence and folder, and
                                                                 the images left out and why
    python training/datasets.py --stamp models research          trainingData, weightsLicence and
                                                                 ATTRIBUTION.md for a model trained on a set

- 'research': ../shared/data/train/*/*.jpg in sorted path order (every release up to mrt-v0.13
  was trained on it). Several of its folders allow non-commercial research only (licences per
  folder from ../shared/data/README.md; train/debian_wallpapers per file, as below).
- 'open': the photos whose licences put no conditions on trained weights that would stop a
  commercial user: every photo of ../shared/data/train-open/ whose LICENSES.csv licence is CC0,
  public domain, CC BY (any version, and the unversioned LicenseRef-CC-BY-unversioned), the
  Unsplash or the Pexels licence (read from the CSV, row by row), plus the CC0 / CC BY photos of
  train/debian_wallpapers/, whose licence is read from the Debian (DEP-5) copyright files beside
  them by matching each image's file name to a `Files:` entry. An image that matches no entry,
  or entries with different licences, is reported and left out. CC BY-SA is NOT in it.
- 'open-sa': 'open' plus the CC BY-SA photos of both folders: a labelled variant, not the default
  (ShareAlike may reach the trained weights; weights_licence below).

Kodak (the evaluation set) is never in a set: files whose sha256 is in kodak/SHA256SUMS or whose
name is kodimNN are left out. The image order of a set is sorted by path relative to
../shared/data (for 'research': the historical sorted absolute path order, the same thing), so
the hold-out rule mrt.is_holdout(index) picks a fixed slice of each set.
"""
from __future__ import annotations

import csv
import fnmatch
import functools
import glob
import hashlib
import os
import re
import sys
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(ROOT, '..', 'shared', 'data'))
TRAIN_DIR = os.path.join(DATA, 'train')
OPEN_DIR = os.path.join(DATA, 'train-open')
KODAK_DIR = os.path.join(DATA, 'kodak')
DEBIAN = 'debian_wallpapers'

SETS = ('research', 'open', 'open-sa')
DEFAULT = 'research'
IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.webp')

# research folders: licence identifier and the terms ../shared/data/README.md gives for them
# (debian_wallpapers is licensed per file from its copyright files instead)
RESEARCH_TERMS = {
    'imagenet_samples': ('LicenseRef-ImageNet-terms', 'ImageNet terms: non-commercial research'),
    'bsds300': ('LicenseRef-BSDS-terms', 'Berkeley Segmentation Dataset: non-commercial research and education'),
    'urban100': ('LicenseRef-research-use', 'research use'),
    'sunhays80': ('LicenseRef-research-use', 'research use'),
    't91': ('LicenseRef-none-stated', 'none stated'),
    'ircnn_val20': ('LicenseRef-none-stated', 'none stated'),
    'skimage': ('LicenseRef-scikit-image-data', "see scikit-image's data licences"),
    'okolors_unsplash': ('LicenseRef-Unsplash', 'Unsplash licence'),
}
# DEP-5 short names that are not SPDX identifiers
DEP5_SPDX = {'GPL-2+': 'GPL-2.0-or-later', 'GPL-3+': 'GPL-3.0-or-later', 'LGPL-2.1+': 'LGPL-2.1-or-later',
             'public-domain': 'LicenseRef-PublicDomain', 'Expat': 'MIT'}

PERMISSIVE_REFS = {'CC0-1.0', 'LicenseRef-PublicDomain', 'LicenseRef-Unsplash', 'LicenseRef-Pexels',
                   'LicenseRef-CC-BY-unversioned'}
CC_BY = re.compile(r'^CC-BY-\d+(\.\d+)?$')
CC_BY_SA = re.compile(r'^CC-BY-SA-\d+(\.\d+)?$')


def licence_class(spdx: str) -> str:
    """'permissive' (CC0, public domain, CC BY, Unsplash, Pexels), 'sharealike' (CC BY-SA) or
    'other' (GPL, non-commercial, unknown)."""
    if spdx in PERMISSIVE_REFS or CC_BY.match(spdx):
        return 'permissive'
    if CC_BY_SA.match(spdx):
        return 'sharealike'
    return 'other'


def needs_attribution(spdx: str) -> bool:
    return spdx == 'LicenseRef-CC-BY-unversioned' or bool(CC_BY.match(spdx) or CC_BY_SA.match(spdx))


ALLOWED = {'research': None, 'open': {'permissive'}, 'open-sa': {'permissive', 'sharealike'}}


@dataclass(frozen=True)
class Image:
    path: str            # absolute path
    name: str            # path relative to DATA (train-open/..., train/...)
    folder: str          # its folder relative to DATA
    licence: str         # SPDX identifier or LicenseRef-...
    author: str = ''
    url: str = ''
    source: str = ''     # where the file came from (repository@commit, Debian package, ...)


# ----------------------------------------------------------------------------- sources

def _rel(p):
    return os.path.relpath(p, DATA)


@functools.lru_cache(maxsize=None)
def kodak_hashes() -> frozenset:
    p = os.path.join(KODAK_DIR, 'SHA256SUMS')
    if not os.path.exists(p):
        return frozenset()
    return frozenset(line.split()[0].lower() for line in open(p) if line.strip())


def _sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def _is_kodak(path):
    return bool(re.match(r'kodim\d+\.', os.path.basename(path), re.I)) or _sha256(path) in kodak_hashes()


def parse_dep5(path):
    """The Files stanzas of a DEP-5 copyright file: [(patterns, licence, copyright)], without the
    packaging's own (debian/*) and the standalone License paragraphs."""
    paras, cur, key = [], {}, None
    for line in open(path, encoding='utf-8', errors='replace'):
        line = line.rstrip('\n')
        if not line.strip():
            if cur:
                paras.append(cur)
            cur, key = {}, None
            continue
        if line[0] in ' \t' and key:
            cur[key] += '\n' + line.strip()
            continue
        if ':' in line:
            key, val = line.split(':', 1)
            cur[key] = val.strip()
    if cur:
        paras.append(cur)
    out = []
    for p in paras:
        if 'Files' not in p:
            continue
        pats = [s for s in p['Files'].split() if s and not s.startswith('debian/')]
        if not pats:
            continue
        lic = p.get('License', '').split('\n')[0].strip()
        author = ' '.join(s.strip() for s in p.get('Copyright', '').split('\n') if s.strip())
        out.append((pats, DEP5_SPDX.get(lic, lic), author))
    return out


def _dep5_meta(path):
    meta = {}
    for line in open(path, encoding='utf-8', errors='replace'):
        if not line.strip():
            break
        if ':' in line and line[0] not in ' \t':
            k, v = line.split(':', 1)
            meta[k] = v.strip()
    return meta


@functools.lru_cache(maxsize=None)
def debian_wallpapers():
    """(images, problems) of train/debian_wallpapers: each image's licence from the copyright
    files beside it. A file name matches a `Files:` pattern by its last path component (the
    images were flattened out of their packages); the most specific matches win (a literal
    name over a glob, a glob over a package-wide `*`). No match, or matches that disagree on
    the licence, is a problem: the image is left out of every set that reads licences per file."""
    d = os.path.join(TRAIN_DIR, DEBIAN)
    stanzas = []
    for cp in sorted(glob.glob(os.path.join(d, '*.COPYRIGHT'))):
        meta = _dep5_meta(cp)
        src = meta.get('Source', '') or meta.get('Upstream-Name', '')
        pkg = os.path.basename(cp)[:-len('.COPYRIGHT')]
        for pats, lic, author in parse_dep5(cp):
            for pat in pats:
                stanzas.append((pat, lic, author, pkg, src))
    imgs, problems = [], []
    for p in sorted(glob.glob(os.path.join(d, '*.jpg'))):
        fn = os.path.basename(p)
        best, rank = [], None
        for pat, lic, author, pkg, src in stanzas:
            last = pat.rsplit('/', 1)[-1]
            if not fnmatch.fnmatchcase(fn, last):
                continue
            r = 0 if not any(c in last for c in '*?[') else (2 if last == '*' else 1)
            if rank is None or r < rank:
                best, rank = [], r
            if r == rank:
                best.append((pat, lic, author, pkg, src))
        lics = {b[1] for b in best}
        if not best:
            problems.append((_rel(p), 'no Files: entry of the copyright files matches its name'))
            continue
        if len(lics) > 1:
            problems.append((_rel(p), f'Files: entries with different licences match it: {sorted(lics)}'))
            continue
        pat, lic, author, pkg, src = best[0]
        how = 'package-wide Files: *' if rank == 2 else f'Files: {pat}'
        imgs.append(Image(p, _rel(p), _rel(d), lic, author, src, f'Debian {pkg} ({how})'))
    return tuple(imgs), tuple(problems)


@functools.lru_cache(maxsize=None)
def train_open():
    """(images, problems) of train-open/ from LICENSES.csv (licence = its first token:
    'LicenseRef-Unsplash (repo README: public domain)' is LicenseRef-Unsplash)."""
    csv_p = os.path.join(OPEN_DIR, 'LICENSES.csv')
    imgs, problems, listed = [], [], set()
    if not os.path.exists(csv_p):
        return (), ((_rel(csv_p), 'missing'),)
    for row in csv.DictReader(open(csv_p, newline='', encoding='utf-8')):
        f = row['file'].strip()
        listed.add(f)
        p = os.path.join(OPEN_DIR, f)
        if not os.path.isfile(p):
            problems.append((_rel(p), 'listed in LICENSES.csv but missing'))
            continue
        lic = (row.get('licence') or '').strip().split()
        if not lic:
            problems.append((_rel(p), 'no licence in LICENSES.csv'))
            continue
        imgs.append(Image(p, _rel(p), os.path.dirname(_rel(p)), lic[0], (row.get('author_attribution') or '').strip(),
                          (row.get('url') or '').strip(), (row.get('source') or '').strip()))
    for p in sorted(glob.glob(os.path.join(OPEN_DIR, '**', '*'), recursive=True)):
        r = os.path.relpath(p, OPEN_DIR)
        if os.path.isfile(p) and p.lower().endswith(IMAGE_EXT) and r not in listed:
            problems.append((_rel(p), 'not in LICENSES.csv'))
    return tuple(imgs), tuple(problems)


def _research():
    deb = {im.path: im for im in debian_wallpapers()[0]}
    out = []
    for p in sorted(glob.glob(os.path.join(TRAIN_DIR, '*', '*.jpg'))):  # the historical order: do not change
        folder = os.path.basename(os.path.dirname(p))
        if folder == DEBIAN:
            out.append(deb.get(p) or Image(p, _rel(p), _rel(os.path.dirname(p)), 'LicenseRef-unmatched'))
        else:
            lic = RESEARCH_TERMS.get(folder, ('LicenseRef-unknown', 'unknown'))[0]
            out.append(Image(p, _rel(p), _rel(os.path.dirname(p)), lic))
    return out


@functools.lru_cache(maxsize=None)
def _resolve(name):
    """(images in set order, excluded [(name, why)])."""
    if name not in SETS:
        raise ValueError(f'unknown training set {name!r}: one of {", ".join(SETS)}')
    excluded = []
    if name == 'research':
        cands = _research()
    else:
        o, po = train_open()
        d, pd = debian_wallpapers()
        excluded += list(po) + list(pd)
        cands = list(o) + list(d)
        keep = []
        for im in cands:
            if licence_class(im.licence) in ALLOWED[name]:
                keep.append(im)
            else:
                excluded.append((im.name, f'licence {im.licence}'))
        cands = sorted(keep, key=lambda im: im.name)
    out = []
    for im in cands:
        if _is_kodak(im.path):
            excluded.append((im.name, 'a Kodak image (evaluation set)'))
        else:
            out.append(im)
    return tuple(out), tuple(excluded)


def images(name: str = DEFAULT):
    """The images of training set `name`, in set order (Image records)."""
    return list(_resolve(name)[0])


def excluded(name: str = DEFAULT):
    """[(name, why)] of the images considered for set `name` and left out."""
    return list(_resolve(name)[1])


def files(name: str = DEFAULT):
    """The absolute paths of set `name`'s images, in set order."""
    return [im.path for im in images(name)]


def cache_dir_name(name: str) -> str:
    """The decoded-image cache folder under training/runs of set `name` ('cache' for research,
    the folder every existing run used)."""
    return 'cache' if name == 'research' else f'cache-{name}'


def cache_key(name: str, im: Image) -> str:
    """An image's name in its set's cache index (research: relative to train/, as it always was)."""
    return os.path.relpath(im.path, TRAIN_DIR) if name == 'research' else im.name


# ----------------------------------------------------------------------------- records

def record(name: str, ims=None) -> dict:
    """What a checkpoint stores about the data it was trained on: the set names and, per image,
    its licence, author and URL (export.py writes manifest trainingData and ATTRIBUTION.md from it)."""
    ims = images(name) if ims is None else ims
    return {'sets': [name], 'images': {im.name: {'folder': im.folder, 'licence': im.licence, 'author': im.author,
                                                 'url': im.url, 'source': im.source} for im in ims}}


def merge(*recs) -> dict:
    """The union of data records (None skipped): the data a model has seen through its whole lineage."""
    sets, imgs = [], {}
    for r in recs:
        if not r:
            continue
        for s in r['sets']:
            if s not in sets:
                sets.append(s)
        for k, v in r['images'].items():
            imgs.setdefault(k, v)
    return {'sets': sets, 'images': imgs}


def legacy_record() -> dict:
    """The data of a checkpoint that records none: every run before the data sets had names was
    trained on 'research'."""
    return record('research')


def of_checkpoint(ck) -> dict:
    """A checkpoint's (or token/PCA file's) data record, the research set if it has none."""
    r = ck.get('data') if isinstance(ck, dict) else None
    return r if r else legacy_record()


def training_data(rec: dict):
    """manifest.json `trainingData`: [{folder, images, licences: {id: count}}] by folder."""
    by = OrderedDict()
    for v in sorted(rec['images'].values(), key=lambda v: v['folder']):
        by.setdefault(v['folder'], Counter())[v['licence']] += 1
    out = []
    for folder, c in by.items():
        e = {'folder': folder, 'images': sum(c.values()), 'licences': dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))}
        terms = RESEARCH_TERMS.get(os.path.basename(folder))
        if folder.startswith('train/') and terms and os.path.basename(folder) != DEBIAN:
            e['terms'] = terms[1]
        out.append(e)
    return out


def weights_licence(rec: dict):
    """(weightsLicence, note) for weights trained on the images of `rec`."""
    classes = Counter(licence_class(v['licence']) for v in rec['images'].values())
    attrib = any(needs_attribution(v['licence']) for v in rec['images'].values())
    credit = ' CC BY / CC BY-SA authors are credited in ATTRIBUTION.md beside the models.' if attrib else ''
    if classes.get('other'):
        others = sorted({v['licence'] for v in rec['images'].values() if licence_class(v['licence']) == 'other'})
        return ('LicenseRef-research-only',
                'Research artefacts, not MIT: the training data include images whose terms do not clear trained weights '
                'for commercial use (non-commercial research only, research use, none stated) or are copyleft (GPL): '
                + ', '.join(others) + '. A commercial deployment needs the model trained on the open set '
                '(training/reproduce.sh --data open).' + credit)
    if classes.get('sharealike'):
        return ('CC-BY-SA-4.0',
                'Labelled ShareAlike variant: trained on CC BY-SA photos too; in case trained weights are an adaptation '
                'of them, they are offered under CC BY-SA 4.0 (which CC BY-SA 3.0 allows for adaptations), not MIT.' + credit)
    return ('MIT',
            'The project\'s licence: trained only on photos under CC0, public domain, CC BY, the Unsplash or the Pexels '
            'licence, none of which restricts the use of trained weights.' + credit)


def attribution_md(rec: dict, model_id: str = '') -> str:
    """ATTRIBUTION.md: the authors of the CC BY and CC BY-SA images a model was trained on."""
    rows = [(k, v) for k, v in rec['images'].items() if needs_attribution(v['licence'])]
    head = f'# Training data attribution{": " + model_id if model_id else ""}\n\n'
    intro = ('Generated by training/datasets.py from the data record of the training runs. '
             f'The weights were trained on the set(s) {", ".join(rec["sets"])} ({len(rec["images"])} images; '
             'per folder and licence: `trainingData` in manifest.json). ')
    if not rows:
        return head + intro + 'None of them is under a licence that asks for attribution (CC BY or CC BY-SA).\n'
    lines = [head, intro, 'These photos are licensed under Creative Commons licences that ask for attribution; '
             'their authors are credited here. The images themselves are not distributed with MRT.\n\n',
             '| image | author | licence | source |\n|---|---|---|---|\n']
    for k, v in sorted(rows, key=lambda kv: kv[0]):
        lic = v['licence']
        lic_url = _cc_url(lic)
        lic_s = f'[{lic}]({lic_url})' if lic_url else lic
        src = v['url'] or v['source']
        src_s = f'<{src}>' if src.startswith('http') else src
        lines.append(f'| {_md(k)} | {_md(v["author"]) or "(not stated)"} | {lic_s} | {_md(src_s)} |\n')
    return ''.join(lines)


def _md(s):
    return (s or '').replace('|', '\\|').replace('\n', ' ')


def _cc_url(lic):
    m = re.match(r'^CC-(BY(?:-SA)?)-(\d+(?:\.\d+)?)$', lic)
    if m:
        return f'https://creativecommons.org/licenses/{m.group(1).lower()}/{m.group(2)}/'
    return ''


def stamp(manifest, rec, out_dir=None):
    """Adds the training data fields to a manifest dict (trainingSets, trainingData, weightsLicence,
    weightsLicenceNote) and, with out_dir, writes out_dir/ATTRIBUTION.md."""
    wl, note = weights_licence(rec)
    manifest['trainingSets'] = list(rec['sets'])
    manifest['trainingData'] = training_data(rec)
    manifest['weightsLicence'] = wl
    manifest['weightsLicenceNote'] = note
    if out_dir:
        with open(os.path.join(out_dir, 'ATTRIBUTION.md'), 'w') as fh:
            fh.write(attribution_md(rec, manifest.get('id', '')))
    return manifest


# ----------------------------------------------------------------------------- report

def report(name: str, out=sys.stdout):
    ims = images(name)
    lic = Counter(im.licence for im in ims)
    print(f'{name}: {len(ims)} images', file=out)
    for k, n in sorted(lic.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f'  {n:5d}  {k}', file=out)
    print('  per folder:', file=out)
    for e in training_data(record(name, ims)):
        ls = ', '.join(f'{k} {n}' for k, n in e['licences'].items())
        print(f'  {e["images"]:5d}  {e["folder"]}: {ls}', file=out)
    ex = excluded(name)
    if ex:
        why = Counter(re.sub(r'^licence .*', 'licence not allowed in this set', w) for _, w in ex)
        print(f'  left out {len(ex)}: ' + '; '.join(f'{n} {w}' for w, n in why.items()), file=out)
        for n_, w in ex:
            if not w.startswith('licence '):
                print(f'    {n_}: {w}', file=out)
    wl, note = weights_licence(record(name, ims))
    print(f'  weights licence: {wl}', file=out)


def main(argv):
    import argparse
    import json
    ap = argparse.ArgumentParser(description='Training sets: counts per licence and folder, images left out.')
    ap.add_argument('sets', nargs='*', default=list(SETS), metavar='SET', help=f'one of {", ".join(SETS)} (default all)')
    ap.add_argument('--stamp', metavar='MODELS_DIR',
                    help="write the training data fields of SET (one) into MODELS_DIR/manifest.json and "
                         "MODELS_DIR/ATTRIBUTION.md, for a model trained on SET but exported before export.py wrote them")
    args = ap.parse_args(argv)
    bad = [n for n in args.sets if n not in SETS]
    if bad:
        ap.error(f'unknown set {", ".join(bad)}: one of {", ".join(SETS)}')
    if args.stamp:
        if len(args.sets) != 1:
            ap.error('--stamp takes one SET')
        mp = os.path.join(args.stamp, 'manifest.json')
        m = stamp(json.load(open(mp)), record(args.sets[0]), args.stamp)
        with open(mp, 'w') as fh:
            json.dump(m, fh, indent=2)
            fh.write('\n')
        print(f'{mp}: trainingData of {args.sets[0]} ({sum(e["images"] for e in m["trainingData"])} images), '
              f'weightsLicence {m["weightsLicence"]}; wrote {os.path.join(args.stamp, "ATTRIBUTION.md")}')
        return
    for n in args.sets:
        report(n)
    deb, probs = debian_wallpapers()
    weak = [im for im in deb if 'Files: *' in im.source]
    if weak:
        print(f'note: {len(weak)} {DEBIAN} images match only a package-wide `Files: *` '
              f'({", ".join(sorted({im.licence for im in weak}))}): ' + ', '.join(os.path.basename(im.path) for im in weak))


if __name__ == '__main__':
    main(sys.argv[1:])
