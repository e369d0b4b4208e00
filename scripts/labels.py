#!/usr/bin/env python3
"""Writes config/labels.yaml, the question texts and answer labels of the catalogue's items, from the studies'
own question pages in a checkout of TeachmanLab/MT-Java (the MindTrails server).

    git clone https://github.com/TeachmanLab/MT-Java   # or any checkout; a bare one works with --git
    scripts/labels.py PATH/TO/MT-Java [--git] [-o config/labels.yaml]

For each study (r34, r01, kaiser, templeton) and each of the catalogue's scales with a page
<study>/src/main/resources/templates/questions/<Scale>.html, it reads
  - the Mustache data blocks (`"options": [{"value": 0, "title": ...}]`, `"questions": [{"name", "desc"}]`) and the
    "Prefer not to answer" choice their template in fragment/common.html adds, and
  - plain radio inputs (`<input type="radio" name=... value=...>`) with the text of their <label>, or of their
    table column's header, and the question text before them (`class="question"`, else the row's first cell);
and records, for each item the catalogue lists, its question text and the label of each coded answer, and the
no-answer codes with their labels. Where the page's no-answer code differs from its Java class's NO_ANSWER
constant, the disagreement is written down. Only the output is committed; MT-Java's files never are.
"""
import argparse, html, json, os, re, subprocess, sys

import yaml

STUDIES = ["r34", "r01", "kaiser", "templeton"]
NO_ANSWER_WORDS = re.compile(r"prefer not|decline|rather not|no answer", re.I)


class Checkout:
    def __init__(self, root, git):
        self.root, self.git = root, git
        if git:
            out = subprocess.run(["git", "--git-dir", root, "ls-tree", "-r", "--name-only", "HEAD"],
                                 check=True, capture_output=True, text=True).stdout
            self.paths = out.splitlines()
        else:
            self.paths = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs]

    def read(self, path):
        if self.git:
            r = subprocess.run(["git", "--git-dir", self.root, "show", "HEAD:" + path], capture_output=True)
            return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None
        p = os.path.join(self.root, path)
        return open(p, encoding="utf-8", errors="replace").read() if os.path.exists(p) else None


def text_of(fragment):
    """Visible text: Thymeleaf expressions become …, tags go, entities are decoded, spaces collapse."""
    fragment = re.sub(r"<span[^>]*th:text=[^>]*/>", "…", fragment)
    fragment = re.sub(r"<(script|style)\b.*?</\1>", " ", fragment, flags=re.S | re.I)
    fragment = re.sub(r"<[^>]+>", " ", fragment)
    return re.sub(r"\s+", " ", html.unescape(fragment)).strip()


def number(v):
    v = str(v).strip()
    return int(v) if re.fullmatch(r"-?\d+", v) else None


def mustache_blocks(page, fragments):
    """(name → desc, value → title, no-answer codes) per data block of a page built from common.html's templates."""
    out = []
    for m in re.finditer(r"var\s+\w+\s*=\s*(\{.*?\})\s*;?\s*\$\([^)]*\)\.html\(\s*Mustache\.render\(\s*\$\(\s*'#(template\w*)'", page, re.S):
        body, template = m.group(1), m.group(2)
        options = {}
        for o in re.finditer(r"\{[^{}]*\"value\"\s*:\s*\"?(-?\d+)\"?[^{}]*\}", body):
            t = re.search(r"\"title\"\s*:\s*\"((?:[^\"\\]|\\.)*)\"", o.group(0))
            d = re.search(r"\"opt_desc\"\s*:\s*\"((?:[^\"\\]|\\.)*)\"", o.group(0))
            # The title is the answer's label ("No anxiety"); opt_desc only explains it.
            label = (t and t.group(1).strip()) or (d and d.group(1).strip()) or ""
            options[int(o.group(1))] = text_of(label)
        questions = {}
        for q in re.finditer(r"\{[^{}]*\"name\"\s*:\s*\"(\w+)\"[^{}]*\}", body):
            d = re.search(r"\"desc\"\s*:\s*\"((?:[^\"\\]|\\.)*)\"", q.group(0))
            questions[q.group(1)] = text_of(d.group(1)) if d else ""
        out.append((questions, options, fragments.get(template, {})))
    return out


def fragment_no_answers(common):
    """Per Mustache template of fragment/common.html: the no-answer choices it adds (value → label)."""
    out = {}
    for m in re.finditer(r"<textarea[^>]*id=\"(template\w*)\"[^>]*>(.*?)</textarea>", common or "", re.S | re.I):
        codes = {}
        for i in re.finditer(r"<input[^>]*type=\"radio\"[^>]*value=\"(-?\d+)\"[^>]*/?>", m.group(2)):
            after = text_of(m.group(2)[i.end():i.end() + 300].split("</label>")[0])
            if NO_ANSWER_WORDS.search(after):
                codes[int(i.group(1))] = NO_ANSWER_WORDS.search(after) and after
        out[m.group(1)] = codes
    return out


def radio_items(page):
    """name → (question text, {value: label}) for the plain radio inputs of a page."""
    items, order = {}, []
    tables = [(t.start(), t.end(), t.group(0)) for t in re.finditer(r"<table\b.*?</table>", page, re.S | re.I)]
    headers = {}
    for start, end, t in tables:
        ths = [text_of(x) for x in re.findall(r"<th\b[^>]*>(.*?)</th>", t, re.S | re.I)]
        headers[start] = ths
    last_question_end = 0
    for m in re.finditer(r"<input\b[^>]*type=\"radio\"[^>]*>", page, re.I):
        tag = m.group(0)
        name = re.search(r"name=\"([^\"]+)\"", tag)
        value = re.search(r"value=\"([^\"]*)\"", tag)
        if not name or not value or number(value.group(1)) is None:
            continue
        name, value = name.group(1), number(value.group(1))
        lab_open = page.rfind("<label", 0, m.start())
        lab_close = page.rfind("</label>", 0, m.start())
        label = ""
        if lab_open > lab_close:
            end = page.find("</label>", m.end())
            content = page[lab_open:end if end > 0 else m.end()]
            # "<b>No anxiety.</b> Felt anxious …": the bold words are the answer's label, the rest explains it.
            bold = re.search(r"<b>(.*?)</b>", content, re.S)
            label = text_of(bold.group(1)).rstrip(".") if bold and text_of(bold.group(1)) else text_of(content)
        if label in ("", str(value)):
            table = next(((s, t) for s, e, t in tables if s <= m.start() < e), None)
            if table:
                row_start = page.rfind("<tr", 0, m.start())
                cells_before = len(re.findall(r"<td\b", page[row_start:m.start()], re.I))
                ths = headers[table[0]]
                if 0 < cells_before <= len(ths) and ths[cells_before - 1] and ths[cells_before - 1] != str(value):
                    label = ths[cells_before - 1] + ("" if label == "" else "")
        if name not in items:
            order.append(name)
            q = None
            for qm in re.finditer(r"<(div|label|p|td)[^>]*class=\"[^\"]*\bquestion\b[^\"]*\"[^>]*>(.*?)</\1>", page[:m.start()], re.S | re.I):
                q = qm
            if q and q.end() > last_question_end:
                text = text_of(q.group(2))
                last_question_end = q.end()
            else:
                row_start = page.rfind("<tr", 0, m.start())
                first = re.search(r"<td\b[^>]*>(.*?)</td>", page[row_start:m.start()], re.S | re.I) if row_start >= 0 else None
                text = text_of(first.group(1)) if first else ""
            items[name] = (text, {})
        if label:
            items[name][1].setdefault(value, label)
    return items


def java_no_answer(checkout, study, scale):
    for p in checkout.paths:
        if p.startswith(study + "/src/main/java/") and p.endswith("/" + scale + ".java"):
            m = re.search(r"NO_ANSWER\s*=\s*(-?\d+)", checkout.read(p) or "")
            return p, (int(m.group(1)) if m else None)
    return None, None


def catalogue_scales(path):
    doc = yaml.safe_load(open(path, encoding="utf-8"))
    base = doc.get("scales", {})
    out = {}
    for study in STUDIES:
        scales = dict(base)
        scales.update((doc.get("studies", {}).get(study) or {}).get("scales") or {})
        out[study] = {n: s for n, s in scales.items() if not s.get("studies") or study in s["studies"]}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkout", help="a checkout of TeachmanLab/MT-Java (with --git: its git directory)")
    ap.add_argument("--git", action="store_true", help="read HEAD of a (bare) git directory instead of a work tree")
    ap.add_argument("--catalogue", default=os.path.join(os.path.dirname(__file__), "..", "config", "scales.yaml"))
    ap.add_argument("-o", "--output", default=os.path.join(os.path.dirname(__file__), "..", "config", "labels.yaml"))
    a = ap.parse_args()
    checkout = Checkout(a.checkout, a.git)
    if not any(p.endswith(".html") and "/templates/questions/" in p for p in checkout.paths):
        sys.exit(f"labels.py: {a.checkout} has no <study>/src/main/resources/templates/questions/*.html; give a checkout of TeachmanLab/MT-Java")
    catalogue = catalogue_scales(a.catalogue)
    result = {}
    for study in STUDIES:
        fragments = fragment_no_answers(checkout.read(f"{study}/src/main/resources/templates/fragment/common.html"))
        for scale, spec in sorted(catalogue[study].items()):
            path = f"{study}/src/main/resources/templates/questions/{scale}.html"
            page = checkout.read(path)
            if page is None:
                continue
            wanted = spec.get("items") or []
            found = {}
            for questions, options, no_answer in mustache_blocks(page, fragments):
                for name, desc in questions.items():
                    found[name] = (desc, {**options, **no_answer})
            for name, (text, labels) in radio_items(page).items():
                found.setdefault(name, (text, labels))
            items = {}
            codes = {}
            for name in wanted:
                if name not in found:
                    continue
                text, labels = found[name]
                entry = {}
                if text:
                    entry["text"] = text
                coded = {v: l for v, l in labels.items() if not NO_ANSWER_WORDS.search(l)}
                for v, l in labels.items():
                    if NO_ANSWER_WORDS.search(l):
                        codes.setdefault(v, l)
                if coded:
                    entry["labels"] = dict(sorted(coded.items()))
                if entry:
                    items[name] = entry
            if not items:
                continue
            block = {"source": path, "items": items}
            if codes:
                block["noAnswer"] = dict(sorted(codes.items()))
            java, constant = java_no_answer(checkout, study, scale)
            if java and constant is not None and codes and constant not in codes:
                sent = ", ".join(f"{v} for \"{l}\"" for v, l in sorted(codes.items()))
                block["disagrees"] = f"{path} sends {sent}, while {java} skips NO_ANSWER = {constant}"
            result.setdefault(study, {})[scale] = block
    header = ("# Question texts and answer labels, per study and scale, from each study's question pages in\n"
              "# TeachmanLab/MT-Java (<study>/src/main/resources/templates/questions/<Scale>.html; `source` names the\n"
              "# page). Written by scripts/labels.py from a checkout of MT-Java: do not edit by hand, rerun it.\n"
              "# Per scale: items (text: the question as the participant saw it; labels: coded answer → label),\n"
              "# noAnswer (the page's no-answer codes → label), disagrees (where the page and its Java class differ).\n"
              "# mt reads this file beside scales.yaml; `mt scales show` and `mt scales codebook` show it.\n")
    with open(a.output, "w", encoding="utf-8") as f:
        f.write(header)
        yaml.safe_dump({"version": 1, "studies": result}, f, allow_unicode=True, sort_keys=False, width=110)
    n = sum(len(s["items"]) for st in result.values() for s in st.values())
    print(f"labels.py: {a.output}: {sum(len(v) for v in result.values())} scales, {n} items", file=sys.stderr)


if __name__ == "__main__":
    main()
