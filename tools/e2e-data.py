#!/usr/bin/env python3
"""Writes the end-to-end test corpora of heed from text this project did not write.

    tools/e2e-data.py OUT_DIR

OUT_DIR/wordnet.txt   English sentences (WordNet 3.0 definitions, usage examples and a few whole
                      glosses of 40-100 words), one per line.
OUT_DIR/calib.txt     More WordNet sentences, disjoint from wordnet.txt (for int8 calibration).
OUT_DIR/i18n.txt      Non-English sentences (translations from the gettext .mo catalogs that
                      Debian installs under /usr/share/locale), one per line.
OUT_DIR/i18n-sources.tsv  language <TAB> catalog <TAB> sentence, in the order of i18n.txt.
OUT_DIR/stats.json    Counts per kind and language.

Sources: Debian's `wordnet-base` (/usr/share/wordnet/data.{noun,verb,adj,adv}) and the catalogs
of coreutils, dpkg, grep, sed, diffutils, login (shadow), apt, libapt-pkg6.0, libpam-runtime
(Linux-PAM), libc-l10n (libc) and libglib2.0-data (glib20).

The output depends only on those files: the choice is made by sorting on a SHA-1 of each
candidate, so it is the same on every run and machine with the same package versions.
No line contains a line break or tab; every file is UTF-8 and ends with a newline.
Only the Python standard library is used (runs under /usr/bin/python3 or the venv).
"""

import argparse
import hashlib
import json
import os
import re
import struct
import sys
import unicodedata

WORDNET_DIR = "/usr/share/wordnet"
LOCALE_DIR = "/usr/share/locale"

# Catalogs searched, in order of preference. All come with required packages of Debian 12
# (coreutils, dpkg, grep, sed, diffutils, login, apt, libapt-pkg6.0, libpam-runtime) or with
# libc-l10n and libglib2.0-data.
CATALOGS = ["coreutils", "libc", "glib20", "apt", "libapt-pkg6.0", "dpkg", "Linux-PAM",
            "diffutils", "grep", "sed", "shadow"]

# Languages with a minimum each must reach (the brief's coverage list), then optional extras.
REQUIRED_LANGS = ["fr", "de", "es", "pt", "pl", "cs", "ru", "uk", "el", "zh_CN", "ja", "ko",
                  "ar", "he", "hi", "th", "vi"]
EXTRA_LANGS = ["it", "nl", "sv", "hu", "tr", "ro", "bg", "zh_TW"]
MIN_PER_REQUIRED_LANG = 8

# Characters never allowed in an output line (line breaks of any kind, tabs, other controls).
_BAD_CATEGORIES = {"Cc", "Zl", "Zp"}


def _key(*parts):
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def _clean_line(s):
    """True if s can be one line of a corpus file."""
    if not s or s != s.strip():
        return False
    return not any(unicodedata.category(c) in _BAD_CATEGORIES for c in s)


# ---------------------------------------------------------------------------------------- WordNet

def read_wordnet(wordnet_dir):
    """Yields (pos, offset, gloss) for every synset of the four data files."""
    for pos in ("noun", "verb", "adj", "adv"):
        path = os.path.join(wordnet_dir, "data." + pos)
        with open(path, "rb") as f:
            for raw in f:
                if raw.startswith(b"  "):  # license header
                    continue
                line = raw.decode("utf-8", errors="strict").rstrip("\n")
                if " | " not in line:
                    continue
                head, gloss = line.split(" | ", 1)
                yield pos, head.split(" ", 1)[0], " ".join(gloss.split())


_QUOTED = re.compile(r'"([^"]+)"')


def wordnet_candidates(wordnet_dir):
    """Returns three lists of unique sentences: definitions, examples, long whole glosses."""
    defs, examples, longs = {}, {}, {}
    for pos, offset, gloss in read_wordnet(wordnet_dir):
        first_quote = gloss.find('"')
        definition = (gloss if first_quote < 0 else gloss[:first_quote]).strip().rstrip(";").strip()
        if len(definition) >= 3 and _clean_line(definition):
            defs.setdefault(definition, _key("def", pos, offset, definition))
        for ex in _QUOTED.findall(gloss):
            ex = ex.strip()
            if len(ex) >= 3 and _clean_line(ex):
                examples.setdefault(ex, _key("ex", pos, offset, ex))
        n_words = len(gloss.split())
        if 40 <= n_words <= 100 and _clean_line(gloss):
            longs.setdefault(gloss, _key("long", pos, offset, gloss))
    return defs, examples, longs


def choose_wordnet(wordnet_dir, n_defs, n_examples, n_long, n_calib):
    defs, examples, longs = wordnet_candidates(wordnet_dir)
    chosen, calib, seen = [], [], set()

    def take(pool, count, out, kind):
        got = 0
        for text, key in sorted(pool.items(), key=lambda kv: kv[1]):
            if got == count:
                break
            if text in seen:
                continue
            seen.add(text)
            out.append((key, kind, text))
            got += 1
        if got < count:
            sys.exit(f"e2e-data: only {got} WordNet {kind} sentences, {count} wanted")

    take(longs, n_long, chosen, "long")
    take(defs, n_defs, chosen, "definition")
    take(examples, n_examples, chosen, "example")
    take(defs, n_calib // 2, calib, "definition")
    take(examples, n_calib - n_calib // 2, calib, "example")
    chosen.sort()
    calib.sort()
    return chosen, calib


# ------------------------------------------------------------------------------------ .mo catalogs

def parse_mo(path):
    """Returns [(msgid bytes, msgstr bytes)] of a GNU .mo file, and its charset."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 20:
        raise ValueError(f"{path}: too short for a .mo file")
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0x950412DE:
        e = "<"
    elif magic == 0xDE120495:
        e = ">"
    else:
        raise ValueError(f"{path}: not a .mo file (magic {magic:#x})")
    _, _, n, orig_off, trans_off = struct.unpack(e + "5I", data[:20])
    entries = []
    for i in range(n):
        olen, opos = struct.unpack(e + "2I", data[orig_off + 8 * i: orig_off + 8 * i + 8])
        tlen, tpos = struct.unpack(e + "2I", data[trans_off + 8 * i: trans_off + 8 * i + 8])
        if opos + olen > len(data) or tpos + tlen > len(data):
            raise ValueError(f"{path}: entry {i} points past the end of the file")
        entries.append((data[opos:opos + olen], data[tpos:tpos + tlen]))
    charset = "utf-8"
    for msgid, msgstr in entries:
        if msgid == b"":
            m = re.search(rb"charset=([A-Za-z0-9_.:-]+)", msgstr)
            if m:
                charset = m.group(1).decode("ascii")
    return entries, charset


def catalog_candidates(lang, catalog, locale_dir):
    path = os.path.join(locale_dir, lang, "LC_MESSAGES", catalog + ".mo")
    if not os.path.exists(path):
        return []
    entries, charset = parse_mo(path)
    out = []
    for msgid, msgstr in entries:
        if not msgid or b"\x00" in msgid or b"\x00" in msgstr:  # header, plural forms
            continue
        try:
            text = msgstr.decode(charset)
            source = msgid.split(b"\x04")[-1].decode("utf-8", errors="replace")
        except (UnicodeDecodeError, LookupError):
            continue
        if text == source or not _clean_line(text):
            continue
        if not (12 <= len(text) <= 300):
            continue
        if all(ord(c) < 128 for c in text):  # keep translations that leave ASCII
            continue
        if sum(c.isalpha() for c in text) < 6:
            continue
        out.append(text)
    return out


def choose_i18n(locale_dir, per_lang):
    chosen, seen, stats = [], set(), {}
    for lang in REQUIRED_LANGS + EXTRA_LANGS:
        pool = []
        for catalog in CATALOGS:
            for text in catalog_candidates(lang, catalog, locale_dir):
                pool.append((_key(lang, catalog, text), catalog, text))
        pool.sort()
        got = 0
        for key, catalog, text in pool:
            if got == per_lang:
                break
            if text in seen:
                continue
            seen.add(text)
            chosen.append((lang, catalog, text))
            got += 1
        stats[lang] = got
        if lang in REQUIRED_LANGS and got < MIN_PER_REQUIRED_LANG:
            sys.exit(f"e2e-data: only {got} sentences for language {lang} under {locale_dir} "
                     f"(catalogs {', '.join(CATALOGS)}); install libc-l10n and libglib2.0-data")
    return chosen, stats


# --------------------------------------------------------------------------------------------- main

def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            assert "\n" not in line and "\t" not in line, line
            f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--wordnet-dir", default=WORDNET_DIR)
    ap.add_argument("--locale-dir", default=LOCALE_DIR)
    ap.add_argument("--definitions", type=int, default=700)
    ap.add_argument("--examples", type=int, default=700)
    ap.add_argument("--long", type=int, default=100, help="whole glosses of 40-100 words")
    ap.add_argument("--calib", type=int, default=256, help="sentences in calib.txt")
    ap.add_argument("--per-lang", type=int, default=20, help="i18n sentences per language")
    args = ap.parse_args()

    if not os.path.exists(os.path.join(args.wordnet_dir, "data.noun")):
        sys.exit(f"e2e-data: {args.wordnet_dir}/data.noun not found (apt-get install wordnet-base)")

    os.makedirs(args.out_dir, exist_ok=True)
    wn, calib = choose_wordnet(args.wordnet_dir, args.definitions, args.examples, args.long,
                               args.calib)
    i18n, lang_stats = choose_i18n(args.locale_dir, args.per_lang)

    write_lines(os.path.join(args.out_dir, "wordnet.txt"), [t for _, _, t in wn])
    write_lines(os.path.join(args.out_dir, "calib.txt"), [t for _, _, t in calib])
    write_lines(os.path.join(args.out_dir, "i18n.txt"), [t for _, _, t in i18n])
    with open(os.path.join(args.out_dir, "i18n-sources.tsv"), "w", encoding="utf-8",
              newline="\n") as f:
        for lang, catalog, text in i18n:
            f.write(f"{lang}\t{catalog}\t{text}\n")

    kinds = {}
    for _, kind, _ in wn:
        kinds[kind] = kinds.get(kind, 0) + 1
    catalogs = {}
    for _, catalog, _ in i18n:
        catalogs[catalog] = catalogs.get(catalog, 0) + 1
    stats = {
        "wordnet": {"sentences": len(wn), "kinds": kinds,
                    "max_words": max(len(t.split()) for _, _, t in wn)},
        "calib": {"sentences": len(calib)},
        "i18n": {"sentences": len(i18n), "languages": lang_stats, "catalogs": catalogs},
    }
    with open(os.path.join(args.out_dir, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    print(f"e2e-data: wordnet.txt {len(wn)} lines, calib.txt {len(calib)} lines, "
          f"i18n.txt {len(i18n)} lines in {len(lang_stats)} languages -> {args.out_dir}")


if __name__ == "__main__":
    main()
