#!/usr/bin/env python3
"""The power-loss suite: mt export, mt benchmark release, mt recover and mt withdraw killed at chosen phases on
durablefs, the power cut at that instant, the durable state mounted again, the command rerun to completion, and
then: every entry the server deleted (its own ledger) is in the active CSVs exactly once with its decrypted
content (a withdrawn participant's nowhere: no archive, no CSV), and `mt verify` exits 0. Control runs kill
alone (no power cut) on the same harness.

Run by scripts/powerloss.sh (make powerloss). Needs /dev/fuse and root (or a user allowed to mount FUSE),
cc and libfuse3-dev, fuse3 (fusermount3), openssl, the debug mt (.build/debug/mt) and mt-sim
(Sim/.build/debug/mt-sim); MT_BIN and MT_SIM_BIN override them.

Environment: MT_POWERLOSS_ROUNDS (export rounds from an empty PATH and as many from existing folders; default
20), MT_POWERLOSS_EXTRA (rounds of release and of recover; default 10), MT_POWERLOSS_CONTROL (control rounds,
one per export phase; default 13), MT_POWERLOSS_KEEP=1 keeps the temporary folder, MT_POWERLOSS_ONLY (a
regular expression on round titles: only those rounds run).
`powerloss.py --oplog` prints every file-system operation of one clean export (to choose triggers by);
`powerloss.py --oplog withdraw` those of one clean withdrawal after an export and a recovery.
"""
import base64
import csv
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MT = os.environ.get("MT_BIN") or os.path.join(ROOT, ".build/debug/mt")
SIM = os.environ.get("MT_SIM_BIN") or os.path.join(ROOT, "Sim/.build/debug/mt-sim")
ROUNDS = int(os.environ.get("MT_POWERLOSS_ROUNDS", "20"))
EXTRA = int(os.environ.get("MT_POWERLOSS_EXTRA", "10"))
ONLY = re.compile(os.environ.get("MT_POWERLOSS_ONLY", ""))
SCALES = ("DD", "QOL")         # two deleteable scales
PER_SCALE = 500
PARTICIPANTS = 40              # distinct ciphertexts (mt decrypts each once)
PASSWORD = "powerloss-pass"
ZONE_EST = -5 * 3600
WITHDRAWN = "1007"             # the participant the withdraw rounds remove (as the CSVs show them, decrypted)
WD_NEW = 50                    # entries per scale of the export after a withdrawal


class Failure(Exception):
    pass


def run(args, check=True, timeout=120, **kw):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise Failure(f"{' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')[-2000:]}")
    return r


def est(t):
    """A date as the real server writes it (@JsonFormat(timezone="EST")): Tue, 03 Apr 2018 14:05:09 -0500."""
    g = time.gmtime(t + ZONE_EST)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{days[g.tm_wday]}, {g.tm_mday:02d} {months[g.tm_mon - 1]} {g.tm_year} {g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} -0500"


class Harness:
    """One mt-sim, one key pair, one config; durablefs mounted and remounted at one mount point."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.fs_bin = os.path.join(tmp, "durablefs")
        self.mnt = os.path.join(tmp, "mnt")
        os.makedirs(self.mnt)
        self.fs = None
        self.fs_log = None
        self.sim = None
        self.mounts = 0
        self.study = os.path.join(tmp, "study")
        os.makedirs(self.study)
        self.ledger = os.path.join(tmp, "ledger.tsv")

    # ------------------------------------------------------------ setup
    def build(self):
        cflags = run(["pkg-config", "fuse3", "--cflags", "--libs"]).stdout.decode().split()
        run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", self.fs_bin, os.path.join(HERE, "durablefs.c")] + cflags)

    def keys(self):
        self.private = os.path.join(self.tmp, "private.pem")
        self.public = os.path.join(self.tmp, "public.pem")
        run(["openssl", "genrsa", "-traditional", "-out", self.private, "2048"])
        os.chmod(self.private, 0o600)
        run(["openssl", "rsa", "-in", self.private, "-pubout", "-out", self.public])
        self.ciphers = []
        self.plain = {}
        for p in range(PARTICIPANTS):
            c = run(["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", self.public,
                     "-pkeyopt", "rsa_padding_mode:pkcs1"], input=str(1000 + p).encode()).stdout
            self.ciphers.append(base64.b64encode(c).decode())

    def decrypt(self, text):
        """participantRSA decrypted with the study key by the openssl CLI (each ciphertext once)."""
        if text not in self.plain:
            r = run(["openssl", "pkeyutl", "-decrypt", "-inkey", self.private, "-pkeyopt", "rsa_padding_mode:pkcs1"],
                    input=base64.b64decode(text), check=False)
            self.plain[text] = r.stdout.decode(errors="replace") if r.returncode == 0 else None
        return self.plain[text]

    def entry(self, scale, i, text="answer"):
        """The entry the server holds and what mt's CSV must show for it (decrypted participantRSA)."""
        p = i % PARTICIPANTS
        e = {"id": i, "date": est(time.time() - 3600 + (i % 1000)), "participantRSA": self.ciphers[p],
             "text": f"{text} {scale} {i}, naïve \"quoted\"\nline 2; 日本語"}
        return e, {"text": e["text"], "participantRSA": str(1000 + p), "date": e["date"]}

    def serve(self, batches):
        """Serve exactly `batches` ({scale: [entries]}) from now on; returns {(scale, id): expected row}."""
        expected = {}
        for scale in SCALES:
            entries = batches.get(scale, [])
            with open(os.path.join(self.study, scale + ".json"), "w") as f:
                json.dump([e for e, _ in entries], f, ensure_ascii=False)
            for e, x in entries:
                expected[(scale, e["id"])] = x
        with open(os.path.join(self.study, "deleteable.json"), "w") as f:
            f.write("{}")
        if self.sim is None:
            self.start_sim()
        else:
            self.admin("POST", "/__sim/reload")
        return expected

    def batch(self, first, count=PER_SCALE, text="answer"):
        return {s: [self.entry(s, first + k * 100_000 + i, text) for i in range(count)] for k, s in enumerate(SCALES)}

    def start_sim(self):
        url_file = os.path.join(self.tmp, "sim.url")
        env = dict(os.environ, MT_SIM_PASS=PASSWORD, MT_CATALOGUE=os.path.join(ROOT, "config/scales.yaml"))
        self.sim_log = open(os.path.join(self.tmp, "sim.log"), "wb")
        self.sim = subprocess.Popen([SIM, "--data", self.study, "--ledger", self.ledger, "--url-file", url_file,
                                     "--user", "admin"], env=env, stdout=self.sim_log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not (os.path.exists(url_file) and open(url_file).read().endswith("\n")):
            if self.sim.poll() is not None or time.time() > deadline:
                raise Failure("mt-sim did not start: " + open(os.path.join(self.tmp, "sim.log")).read())
            time.sleep(0.05)
        self.url = open(url_file).read().strip()
        self.root = re.match(r"(https?://[^/]+)", self.url).group(1)
        pass_file = os.path.join(self.tmp, "sim.pass")
        with open(pass_file, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pass_file, 0o600)
        self.config = os.path.join(self.tmp, "mt.yaml")
        with open(self.config, "w") as f:
            f.write("\n".join([
                "sim:", "  READY: true", f'  SERVER: "{self.url}"', "  USER: admin", f'  PASS_FILE: "{pass_file}"',
                f'  PATH: "{self.mnt}/data"', f'  PRIVATE_FILE: "{self.private}"', "  DELETE_MODE: true",
                "  RETRIES: 1", "  TIMEOUT: 10", "  CONNECT_TIMEOUT: 2", ""]))
        os.chmod(self.config, 0o600)

    def admin(self, method, path):
        req = urllib.request.Request(self.root + path, method=method)
        req.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode())
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def ledger_lines(self):
        if not os.path.exists(self.ledger):
            return []
        out = []
        # mt-sim(1), --ledger: scale TAB id TAB the UTC time of the delete
        for line in open(self.ledger).read().splitlines():
            scale, i = line.split("\t")[:2]
            out.append((scale, int(i)))
        return out

    # ------------------------------------------------------------ mounts
    def mount(self, backing, trigger=None, on_trigger="cut", cut_to=None, verbose=False):
        self.mounts += 1
        self.fs_log_path = os.path.join(self.tmp, f"durablefs-{self.mounts}.log")
        self.fs_log = open(self.fs_log_path, "wb")
        args = [self.fs_bin, backing, self.mnt]
        if cut_to:
            args += ["--cut-to", cut_to]
        if trigger:
            args += ["--trigger", trigger, "--on-trigger", on_trigger]
        if verbose:
            args.append("--verbose")
        self.fs = subprocess.Popen(args, stdout=self.fs_log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while not os.path.ismount(self.mnt):
            if self.fs.poll() is not None or time.time() > deadline:
                raise Failure("durablefs did not mount: " + open(self.fs_log_path, errors="replace").read())
            time.sleep(0.02)

    def unmount(self):
        if self.fs is None:
            return
        for attempt in range(50):
            if not os.path.ismount(self.mnt):
                break
            if subprocess.run(["fusermount3", "-u", self.mnt], stderr=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["fusermount3", "-uz", self.mnt], stderr=subprocess.DEVNULL)
        try:
            self.fs.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.fs.kill()
            self.fs.wait()
        self.fs = None
        self.fs_log.close()

    def cut(self):
        """The power cut through the control path."""
        try:
            os.stat(os.path.join(self.mnt, ".durablefs-powercut"))
        except FileNotFoundError:
            pass

    def fs_output(self):
        return open(self.fs_log_path, errors="replace").read()

    def close(self):
        try:
            self.unmount()
        finally:
            if os.path.ismount(self.mnt):
                subprocess.run(["fusermount3", "-uz", self.mnt], stderr=subprocess.DEVNULL)
            if self.sim is not None and self.sim.poll() is None:
                self.sim.terminate()
                try:
                    self.sim.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.sim.kill()

    # ------------------------------------------------------------ mt
    def mt(self, *args, timeout=300):
        return subprocess.run([MT, "--config", self.config] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)

    def data(self):
        return os.path.join(self.mnt, "data")

    def csv_rows(self, folder="active_data", suffix=".csv"):
        """(scale, id) -> [row dicts] over the CSVs of `folder` (active_data, or the newest recovered CSV of each
        scale in recovered_data)."""
        out = {}
        d = os.path.join(self.data(), folder)
        if not os.path.isdir(d):
            return out
        names = sorted(n for n in os.listdir(d) if n.endswith(suffix) and not n.startswith("."))
        if folder == "recovered_data":
            names = [sorted(n for n in names if n.startswith(s + "_recovered_"))[-1:] for s in SCALES]
            names = [n for group in names for n in group]
        for name in names:
            scale = next((s for s in SCALES if name.startswith(s + "_")), None)
            if scale is None:
                continue
            with open(os.path.join(d, name), newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    out.setdefault((scale, int(row["id"])), []).append(row)
        return out


def describe(keys):
    """Exact and short: "DD 2501-2999, 3001; QOL 102501 (501 in all)"."""
    by_scale = {}
    for scale, i in sorted(set(keys)):
        by_scale.setdefault(scale, []).append(i)
    parts = []
    for scale, ids in by_scale.items():
        runs, start, prev = [], ids[0], ids[0]
        for i in ids[1:] + [None]:
            if i is not None and i == prev + 1:
                prev = i
                continue
            runs.append(f"{start}" if start == prev else f"{start}-{prev}")
            if i is not None:
                start = prev = i
        parts.append(f"{scale} {', '.join(runs)}")
    return "; ".join(parts) + f" ({len(set(keys))} in all)"


def tree(root):
    """relative path -> size (-1 for a folder) of everything under root."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs:
            out[os.path.relpath(os.path.join(d, n), root)] = -1
        for n in files:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = os.lstat(p).st_size
    return out


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def sha256sums(data):
    """raw_data/SHA256SUMS: archive -> checksum (the last line of a name counts)."""
    out = {}
    path = os.path.join(data, "raw_data/SHA256SUMS")
    for line in open(path).read().splitlines() if os.path.exists(path) else []:
        digest, _, name = line.partition("  ")
        out[name] = digest
    return out


def lost_files(live, durable):
    """What the power cut took: files and folders of the live tree at the cut that the durable state lacks, or
    holds shorter."""
    a, b = tree(live), tree(durable)
    out = []
    for p in sorted(a):
        if p.startswith("data/logs") or p == "data/.mt.lock":
            continue
        if p not in b:
            if not any(p.startswith(q + "/") for q in out if a.get(q) == -1):
                out.append(p)
        elif a[p] >= 0 and b[p] != a[p]:
            out.append(f"{p} ({b[p]} of {a[p]} bytes)")
    return [p + ("/ (folder, with all inside)" if a.get(p) == -1 else "") for p in out]


def check_rows(h, expected, must_hold, folder="active_data"):
    """Every key of `must_hold` is in the CSVs exactly once with its content; no id is there twice."""
    rows = h.csv_rows(folder)
    problems = []
    lost = [k for k in must_hold if k not in rows]
    if lost:
        problems.append(f"LOST (deleted from the server, in no CSV): {describe(lost)}")
    twice = [k for k, v in rows.items() if len(v) > 1]
    if twice:
        problems.append(f"TWICE in the CSVs: {describe(twice)}")
    wrong = []
    for k in must_hold:
        if k in rows:
            want = expected[k]
            row = rows[k][0]
            if any(row.get(f) != v for f, v in want.items()):
                wrong.append(k)
    if wrong:
        k = wrong[0]
        problems.append(f"WRONG content: {describe(wrong)}; e.g. {k}: {dict((f, rows[k][0].get(f)) for f in expected[k])} "
                        f"instead of {expected[k]}")
    return problems, rows


def backdate(backing):
    """Renames the active CSVs of today (DATE_FORMAT's default, %b_%d_%Y, local time) to yesterday's names."""
    today = time.strftime("%b_%d_%Y")
    yesterday = time.strftime("%b_%d_%Y", time.localtime(time.time() - 86400))
    d = os.path.join(backing, "data/active_data")
    for n in os.listdir(d):
        if n.endswith(f"_{today}.csv"):
            os.rename(os.path.join(d, n), os.path.join(d, n.replace(today, yesterday)))


def cut_report(log):
    """durablefs' op log (the last operations before the cut) and the files the cut took, from crash()."""
    lines = [l for l in log.splitlines() if l.strip() and (not l.startswith("  #") or " /data/logs/" not in l)]
    ops = [i for i, l in enumerate(lines) if l.startswith("  #")]
    return "\n".join(lines[ops[-25]:] if len(ops) > 25 else lines)


class Suite:
    def __init__(self, h):
        self.h = h
        self.passed = 0
        self.failed = 0
        self.number = 0
        self.next_id = 1
        self.started = time.time()

    def ids(self, span=PER_SCALE):
        first = self.next_id
        self.next_id += span
        return first

    def report(self, title, problems):
        if problems:
            self.failed += 1
            print(f"round {self.number} {title}: FAILED")
            for p in problems:
                for line in p.splitlines():
                    print("    " + line)
        else:
            self.passed += 1
            print(f"round {self.number} {title}: ok")
        sys.stdout.flush()

    def wanted(self, title):
        self.number += 1
        return ONLY.search(title) is not None

    def fresh_backing(self, template=None):
        d = tempfile.mkdtemp(prefix="backing-", dir=self.h.tmp)
        if template:
            shutil.rmtree(d)
            shutil.copytree(template, d, symlinks=True)
        else:
            os.mkdir(os.path.join(d, "data"), 0o700)
        return d

    def crash(self, backing, trigger, cut, args):
        """Mount with the trigger, run mt `args` until the trigger kills it (trigger None: until it ends, then
        the power is cut); returns the backing folder to mount next (the durable state after a cut, the same
        folder after a kill alone) and the op log. Raises Failure when the run was not killed."""
        h = self.h
        cut_to = os.path.join(h.tmp, f"cut-{h.mounts + 1}")
        h.mount(backing, trigger=trigger, on_trigger="cut" if cut else "kill", cut_to=cut_to)
        try:
            r = h.mt(*args)
            if trigger is None and cut:
                h.cut()
        finally:
            h.unmount()
        log = h.fs_output()
        if trigger is None:
            if r.returncode not in (0, 1):
                raise Failure(f"mt {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')[-800:]}")
        elif r.returncode != -signal.SIGKILL:
            raise Failure(f"the trigger {trigger} never fired: mt {' '.join(args)} exited {r.returncode} "
                          f"(stderr: {r.stderr.decode(errors='replace')[-800:]})")
        if cut and not os.path.isdir(cut_to):
            raise Failure(f"no durable state was written: {log[-2000:]}")
        if cut:
            gone = lost_files(backing, cut_to)
            log += "\nthe power cut took (live at the cut, not durable):\n" + ("\n".join("  " + g for g in gone) or "  nothing")
        return (cut_to if cut else backing), log

    def complete_exports(self, problems, runs=2):
        codes = []
        for _ in range(runs):
            r = self.h.mt("export")
            codes.append(r.returncode)
            last = r
        if codes[-1] != 0:
            problems.append(f"mt export after the crash exited {codes} (last stderr: "
                            f"{last.stderr.decode(errors='replace').strip()[-1500:]})")
        return codes

    def verify(self, problems):
        r = self.h.mt("verify")
        if r.returncode != 0:
            lines = (r.stdout + r.stderr).decode(errors="replace").strip().splitlines()
            shown = lines if len(lines) <= 12 else lines[:8] + [f"… ({len(lines) - 10} lines)"] + lines[-2:]
            problems.append(f"mt verify exited {r.returncode}:\n" + "\n".join("  " + l for l in shown))

    # ------------------------------------------------------------ export rounds
    def export_round(self, kind, phase, trigger, template=None, cut=True):
        title = f"{kind} phase={phase}" + ("" if cut else " (kill -9 alone)")
        if not self.wanted(title):
            return
        h = self.h
        problems = []
        log = ""
        try:
            before = len(h.ledger_lines())
            expected = h.serve(h.batch(self.ids()))
            backing = self.fresh_backing(template)
            backing, log = self.crash(backing, trigger, cut, ["export"])
            h.mount(backing)
            try:
                self.complete_exports(problems)
                deleted = h.ledger_lines()[before:]
                p, rows = check_rows(h, self.template_expected | expected if template else expected, set(deleted))
                problems += p
                left = [k for k in expected if k not in set(deleted)]
                if left:
                    problems.append(f"still on the server after two completed exports: {describe(left)}")
                if template:
                    gone = [k for k in self.template_expected if k not in rows]
                    if gone:
                        problems.append(f"LOST from the earlier export's CSVs: {describe(gone)}")
                self.verify(problems)
            finally:
                h.unmount()
        except Failure as e:
            problems.append(str(e))
        if problems and log:
            problems.append(cut_report(log))
        self.report(title, problems)

    def make_template(self):
        """An earlier completed export, everything durable (it is copied as the backing folder); and the same
        as if it had run yesterday (its CSVs under yesterday's names), so that the next run starts new CSVs."""
        h = self.h
        self.template_batch = h.batch(self.ids())
        self.template_expected = h.serve(self.template_batch)
        backing = self.fresh_backing()
        h.mount(backing)
        try:
            r = h.mt("export")
            if r.returncode != 0:
                raise Failure(f"the template export exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        finally:
            h.unmount()
        self.template = backing
        self.template_yesterday = self.fresh_backing(backing)
        backdate(self.template_yesterday)

    # ------------------------------------------------------------ release rounds
    def make_release_template(self):
        """QOL ids exported and deleted, then the server's ids restart with other content: held back."""
        h = self.h
        first = self.ids(30)
        old = {"QOL": [h.entry("QOL", first + i) for i in range(30)]}
        self.rel_old = h.serve(old)
        backing = self.fresh_backing()
        h.mount(backing)
        try:
            if h.mt("export").returncode != 0:
                raise Failure("the release template's first export failed")
            self.rel_batch = {"QOL": [h.entry("QOL", first + i, "after the restart") for i in range(30)]}
            self.rel_new = h.serve(self.rel_batch)
            r = h.mt("export")
            if r.returncode != 1:
                raise Failure(f"the held-back export exited {r.returncode}, not 1: {r.stderr.decode(errors='replace')}")
        finally:
            h.unmount()
        self.rel_template = backing
        self.rel_template_yesterday = self.fresh_backing(backing)
        backdate(self.rel_template_yesterday)

    def release_round(self, phase, trigger, yesterday):
        kind = "benchmark-release(yesterday's CSVs)" if yesterday else "benchmark-release"
        title = f"{kind} phase={phase}"
        if not self.wanted(title):
            return
        h = self.h
        problems = []
        log = ""
        try:
            before = len(h.ledger_lines())
            h.serve(self.rel_batch)
            template = self.rel_template_yesterday if yesterday else self.rel_template
            backing, log = self.crash(self.fresh_backing(template), trigger, True,
                                      ["benchmark", "sim", "release", "QOL", "--yes"])
            h.mount(backing)
            try:
                r = h.mt("benchmark", "sim", "release", "QOL", "--yes")
                if r.returncode not in (0, 66):
                    problems.append(f"the rerun of release exited {r.returncode}: {r.stderr.decode(errors='replace')[-1500:]}")
                self.complete_exports(problems)
                rows = h.csv_rows()
                deleted = set(h.ledger_lines()[before:])
                lost = [k for k in self.rel_new if k in deleted
                        and self.rel_new[k]["text"] not in [row["text"] for row in rows.get(k, [])]]
                if lost:
                    problems.append(f"LOST (deleted from the server, its content after the restart in no CSV): {describe(lost)}")
                for k in self.rel_old:
                    texts = sorted(row["text"] for row in rows.get(k, []))
                    want = sorted([self.rel_old[k]["text"], self.rel_new[k]["text"]])
                    if texts != want:
                        problems.append(f"{k[0]} {k[1]}: the CSVs hold {len(texts)} rows {texts!r}, not both contents once")
                        break
                bad = [k for k in self.rel_old if any(
                    row["participantRSA"] != self.rel_old[k]["participantRSA"] for row in rows.get(k, []))]
                if bad:
                    problems.append(f"WRONG participantRSA: {describe(bad)}")
                missing = [k for k in self.rel_new if k not in deleted]
                if missing:
                    problems.append(f"released but not deleted after the exports: {describe(missing)}")
                self.verify(problems)
            finally:
                h.unmount()
        except Failure as e:
            problems.append(str(e))
        if problems and log:
            problems.append(cut_report(log))
        self.report(title, problems)

    # ------------------------------------------------------------ recover rounds
    def recover_round(self, phase, trigger):
        title = f"recover phase={phase}"
        if not self.wanted(title):
            return
        h = self.h
        problems = []
        log = ""
        try:
            backing, log = self.crash(self.fresh_backing(self.template), trigger, True, ["recover", "sim"])
            h.mount(backing)
            try:
                r = h.mt("recover", "sim")
                if r.returncode != 0:
                    problems.append(f"the rerun of recover exited {r.returncode}: {r.stderr.decode(errors='replace')[-1500:]}")
                p, rows = check_rows(h, self.template_expected, set(self.template_expected), folder="recovered_data")
                problems += [q.replace("deleted from the server, in no CSV", "archived, not in the recovered CSV") for q in p]
                readmes = [n for n in os.listdir(os.path.join(h.data(), "recovered_data")) if n.startswith("README_")]
                if len(readmes) < len(SCALES):
                    problems.append(f"recovered_data holds {len(readmes)} READMEs for {len(SCALES)} scales")
                p, _ = check_rows(h, self.template_expected, set(self.template_expected))
                problems += [q.replace("deleted from the server, in no CSV", "gone from the active CSVs") for q in p]
                self.verify(problems)
            finally:
                h.unmount()
        except Failure as e:
            problems.append(str(e))
        if problems and log:
            problems.append(cut_report(log))
        self.report(title, problems)

    # ------------------------------------------------------------ withdraw rounds
    def make_withdraw_template(self):
        """The earlier completed export with a recovery beside it (so that recovered CSVs hold the participant
        too), everything durable; the withdrawn participant's entries and everyone else's."""
        h = self.h
        backing = self.fresh_backing(self.template)
        h.mount(backing)
        try:
            r = h.mt("recover", "sim")
            if r.returncode != 0:
                raise Failure(f"the withdraw template's recover exited {r.returncode}: {r.stderr.decode(errors='replace')}")
            self.wd_sums = sha256sums(h.data())
        finally:
            h.unmount()
        self.wd_template = backing
        self.wd_withdrawn = {k for k, x in self.template_expected.items() if x["participantRSA"] == WITHDRAWN}

    def withdraw_round(self, phase, trigger, cut=True):
        title = f"withdraw phase={phase}" + ("" if cut else " (kill -9 alone)")
        if not self.wanted(title):
            return
        h = self.h
        problems = []
        log = ""
        withdraw = ["withdraw", "sim", WITHDRAWN, "--yes"]
        try:
            before = len(h.ledger_lines())
            # the next export: the server sends the withdrawn entries again (as if their DELETE had been lost)
            # and new entries of the others
            resent = {s: [(e, x) for e, x in self.template_batch[s] if (s, e["id"]) in self.wd_withdrawn] for s in SCALES}
            fresh = {s: [(e, x) for e, x in entries if x["participantRSA"] != WITHDRAWN]
                     for s, entries in h.batch(self.ids(WD_NEW), WD_NEW, "after the withdrawal").items()}
            served = h.serve({s: resent[s] + fresh[s] for s in SCALES})
            new = {k: served[k] for k in served if k not in self.wd_withdrawn}
            others = {k: x for k, x in self.template_expected.items() if k not in self.wd_withdrawn} | new
            backing, log = self.crash(self.fresh_backing(self.wd_template), trigger, cut, withdraw)
            h.mount(backing)
            try:
                journal = os.path.join(h.data(), "state/withdrawal.json")
                if os.path.exists(journal):
                    r = h.mt("export")
                    if r.returncode != 75:
                        problems.append(f"mt export with the withdrawal's journal left exited {r.returncode}, not 75")
                r = h.mt(*withdraw)
                if r.returncode not in (0, 1):
                    problems.append(f"the rerun of withdraw exited {r.returncode}: {r.stderr.decode(errors='replace')[-1500:]}")
                if os.path.exists(journal):
                    problems.append("state/withdrawal.json is still there after the rerun")
                left = [f"{d}/{n}" for d in ("raw_data", "active_data", "recovered_data", "state")
                        if os.path.isdir(os.path.join(h.data(), d))
                        for n in os.listdir(os.path.join(h.data(), d)) if ".withdraw-" in n or ".tmp-" in n]
                if left:
                    problems.append(f"temporary files left after the rerun: {', '.join(sorted(left))}")
                self.complete_exports(problems, runs=1)
                r = h.mt("recover", "sim")
                if r.returncode != 0:
                    problems.append(f"mt recover after the withdrawal exited {r.returncode}: {r.stderr.decode(errors='replace')[-1500:]}")
                problems += self.withdrawn_nowhere(others)
                problems += self.withdrawal_ledger()
                deleted = set(h.ledger_lines()[before:])
                undeleted = [k for k in served if k not in deleted]
                if undeleted:
                    problems.append(f"still on the server after the export: {describe(undeleted)}")
                self.verify(problems)
            finally:
                h.unmount()
        except Failure as e:
            problems.append(str(e))
        if problems and log:
            problems.append(cut_report(log))
        self.report(title, problems)

    def withdrawn_nowhere(self, others):
        """No archive (every entry's participantRSA decrypted), active or recovered CSV holds the withdrawn
        participant; each of the others' entries is in the archives, the active CSVs and the newest recovered
        CSVs exactly once with its content."""
        h = self.h
        problems = []
        archived, held = {}, {}
        raw = os.path.join(h.data(), "raw_data")
        for name in sorted(os.listdir(raw)):
            # archives are named TIME_SCALE.json.gz (or .json)
            scale = next((s for s in SCALES if name.endswith((f"_{s}.json.gz", f"_{s}.json"))), None)
            if scale is None or name.startswith("."):
                continue
            with open(os.path.join(raw, name), "rb") as f:
                body = f.read()
            try:
                entries = json.loads(gzip.decompress(body) if name.endswith(".gz") else body)
            except (OSError, ValueError) as e:
                problems.append(f"raw_data/{name} cannot be read: {e}")
                continue
            for e in entries:
                k = (scale, e["id"])
                if h.decrypt(e["participantRSA"]) == WITHDRAWN or k in self.wd_withdrawn:
                    held.setdefault(name, []).append(k)
                archived.setdefault(k, []).append((name, e))
        for name, keys in held.items():
            problems.append(f"raw_data/{name} still holds the withdrawn participant's {describe(keys)}")
        missing = [k for k in others if k not in archived]
        if missing:
            problems.append(f"LOST from the archives: {describe(missing)}")
        twice = [k for k, v in archived.items() if len(v) > 1]
        if twice:
            problems.append(f"TWICE in the archives: {describe(twice)}")
        wrong = [k for k in others if k in archived and (archived[k][0][1]["text"] != others[k]["text"]
                 or h.decrypt(archived[k][0][1]["participantRSA"]) != others[k]["participantRSA"])]
        if wrong:
            problems.append(f"WRONG content in the archives: {describe(wrong)}")
        for folder in ("active_data", "recovered_data"):
            p, _ = check_rows(h, others, set(others), folder=folder)
            problems += [f"{folder}: " + q.replace("deleted from the server, in no CSV", "archived, in no CSV") for q in p]
            d = os.path.join(h.data(), folder)
            for name in sorted(n for n in os.listdir(d) if n.endswith(".csv")) if os.path.isdir(d) else []:
                with open(os.path.join(d, name), newline="", encoding="utf-8") as f:
                    hits = [row["id"] for row in csv.DictReader(f) if row.get("participantRSA") == WITHDRAWN]
                if hits:
                    problems.append(f"{folder}/{name} still holds the withdrawn participant: ids {', '.join(hits[:10])}")
        return problems

    def withdrawal_ledger(self):
        """ledger/withdrawals.tsv names each withdrawn entry once, by an HMAC of the participant (never the id),
        and each rewritten archive with its checksum before the withdrawal and its checksum now."""
        h = self.h
        path = os.path.join(h.data(), "ledger/withdrawals.tsv")
        if not os.path.exists(path):
            return ["ledger/withdrawals.tsv is missing"]
        entries, replaced = [], {}
        for line in open(path, encoding="utf-8").read().splitlines():
            f = line.split("\t")
            if len(f) == 7 and f[1] == "entry":
                entries.append((f[3], int(f[4]), f[2], f[6]))
            elif len(f) == 5 and f[1] == "archive":
                replaced.setdefault(f[2], []).append((f[3], f[4]))
        problems = []
        named = [(s, i) for s, i, _, _ in entries]
        if set(named) != self.wd_withdrawn:
            gone = self.wd_withdrawn - set(named)
            extra = set(named) - self.wd_withdrawn
            problems.append("the withdrawal ledger does not name exactly the withdrawn entries"
                            + (f"; lacks {describe(gone)}" if gone else "") + (f"; names others {describe(extra)}" if extra else ""))
        dup = [k for k in set(named) if named.count(k) > 1]
        if dup:
            problems.append(f"the withdrawal ledger names entries twice: {describe(dup)}")
        who = {p for _, _, p, _ in entries}
        if len(who) != 1 or not re.fullmatch(r"[0-9a-f]{64}", next(iter(who), "")):
            problems.append(f"the withdrawal ledger's participant column is not one HMAC: {sorted(who)[:3]}")
        now = sha256sums(h.data())
        for name in sorted({a for _, _, _, a in entries}):
            reps = replaced.get(name)
            if not reps:
                problems.append(f"the withdrawal ledger records no replacement of raw_data/{name}")
                continue
            actual = file_sha256(os.path.join(h.data(), "raw_data", name))
            if reps[0][0] != self.wd_sums.get(name) or reps[-1][1] != actual or now.get(name) != actual:
                problems.append(f"raw_data/{name}: replaced {reps}, its checksum before {self.wd_sums.get(name)}, "
                                f"in SHA256SUMS now {now.get(name)}, of the file {actual}")
        return problems

    # ------------------------------------------------------------ the layer itself
    def selftest(self):
        """The classic durability bugs must be caught by durablefs, the right patterns spared."""
        h = self.h
        script = os.path.join(HERE, "selftest.py")
        for case in run([sys.executable, script, "--list"]).stdout.decode().split():
            self.number += 1
            title = f"self-test {case}"
            if not ONLY.search(title):
                continue
            problems = []
            backing = self.fresh_backing()
            cut_to = os.path.join(h.tmp, f"cut-{h.mounts + 1}")
            try:
                h.mount(backing, cut_to=cut_to)
                try:
                    r = run([sys.executable, script, "--do", case, h.mnt], check=False)
                    if r.returncode != 0:
                        problems.append(f"{case} could not run: {r.stderr.decode(errors='replace')}")
                    h.cut()
                finally:
                    h.unmount()
                h.mount(cut_to)
                try:
                    r = run([sys.executable, script, "--check", case, h.mnt], check=False)
                    if r.returncode != 0:
                        problems.append(r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace"))
                finally:
                    h.unmount()
            except Failure as e:
                problems.append(str(e))
            self.report(title, problems)
        self.number += 1
        if ONLY.search("self-test live"):
            problems = []
            try:
                h.mount(self.fresh_backing())
                try:
                    r = run([sys.executable, script, "--do", "live", h.mnt], check=False)
                    if r.returncode != 0:
                        problems.append((r.stdout + r.stderr).decode(errors="replace"))
                finally:
                    h.unmount()
            except Failure as e:
                problems.append(str(e))
            self.report("self-test live (flock excludes a second process, O_APPEND)", problems)
        # the trigger: a child writing and fsyncing is killed at its 2nd fsync; the 1st one's bytes are kept
        self.number += 1
        if ONLY.search("self-test trigger"):
            problems = []
            backing = self.fresh_backing()
            cut_to = os.path.join(h.tmp, f"cut-{h.mounts + 1}")
            try:
                h.mount(backing, trigger="fsync:data/f:2", cut_to=cut_to)
                try:
                    r = run([sys.executable, script, "--do", "trigger", h.mnt], check=False)
                finally:
                    h.unmount()
                if r.returncode != -signal.SIGKILL:
                    problems.append(f"the child exited {r.returncode}, not killed at the 2nd fsync of data/f")
                got = open(os.path.join(cut_to, "data/f"), "rb").read() if os.path.exists(os.path.join(cut_to, "data/f")) else None
                if got != b"one":
                    problems.append(f"after the cut data/f holds {got!r}, not the bytes of its 1st fsync b'one'")
            except Failure as e:
                problems.append(str(e))
            self.report("self-test trigger", problems)


EXPORT_PHASES = [
    # (phase, trigger): mt is killed at the N-th operation matching, paths relative to the mount root; the two
    # scales are exported one after the other, DD first. None: the run completes, then the power is cut.
    ("fetch", "write:data/raw_data/.DD.json.gz.tmp-*:1"),
    ("archive", "link:data/raw_data/*:1"),
    ("csv", "write:data/active_data/DD_*.csv:1"),
    ("ledger", "fsync:data/ledger/deletions.tsv:1"),
    ("delete", "fsync:data/ledger/deletions.tsv:2"),   # DD's DELETEs are sent, QOL's ledger batch is next
    ("mark", "rename:data/state/export_DD.json:4"),    # DD's delete mark after its DELETEs
    ("done", None),
    ("archive", "write:data/raw_data/SHA256SUMS:1"),  # DD's archive is linked, its checksum line not written
    ("fetch", "write:data/raw_data/.QOL.json.gz.tmp-*:1"),
    ("archive", "fsync:data/raw_data/SHA256SUMS:1"),
    ("csv", "write:data/active_data/QOL_*.csv:1"),
    ("archive", "fsync:data/raw_data/ARCHIVES.tsv:2"),
    ("mark", "rename:data/active_data/benchMark.json:2"),  # a delete mark in the original tool's benchmark
]

CONTROL = int(os.environ.get("MT_POWERLOSS_CONTROL", str(len(EXPORT_PHASES))))

RELEASE_PHASES = [
    ("csv", "write:data/active_data/*.csv:1"),
    ("csv-fsync", "fsync:data/active_data/QOL_*.csv:1"),
    ("written-set", "fsync:data/state/written_QOL.tsv:1"),
    ("state", "rename:data/state/export_QOL.json:1"),
    ("done", None),
]

RECOVER_PHASES = [
    ("csv", "write:data/recovered_data/*:1"),
    ("rename", "rename:data/recovered_data/*:1"),
    ("readme", "rename:data/recovered_data/*:3"),
    ("folder-fsync", "fsyncdir:data/recovered_data:2"),
    ("done", None),
]

WITHDRAW_PHASES = [
    # after an export and a recovery (one archive, active and recovered CSV of each scale, DD first)
    ("ledger", "fsync:data/ledger/withdrawals.tsv:1"),          # the journal durable, its entry lines not
    ("archive-temp", "fsync:data/raw_data/*_DD.json.gz.withdraw-*:1"),
    ("archive-rename", "rename:data/raw_data/*_DD.json.gz:1"),  # the rewritten archive fsynced, not renamed
    ("checksum", "write:data/raw_data/SHA256SUMS:1"),          # renamed over the old one, no new checksum
    ("archive-ledger", "fsync:data/ledger/withdrawals.tsv:2"),  # new checksum durable, the replacement line not
    ("archive-checksum", "fsync:data/raw_data/SHA256SUMS:2"),  # QOL's: renamed, its checksum not durable
    ("csv", "rename:data/active_data/DD_*.csv:1"),             # the committed length lowered, CSV not rewritten
    ("csv-folder", "fsyncdir:data/active_data:1"),             # rewritten and renamed, the folder not fsynced
    ("recovered-csv", "rename:data/recovered_data/QOL_*.csv:1"),
    ("written-set", "rename:data/state/written_DD.tsv:1"),
    ("journal-removed", "unlink:data/state/withdrawal.json:1"),
    ("done", None),
]
WITHDRAW_CONTROL = [
    ("archive-rename", "rename:data/raw_data/*_QOL.json.gz:1"),
    ("archive-ledger", "write:data/ledger/withdrawals.tsv:2"),  # DD's new checksum appended, its replacement line not
]


def main():
    if not os.path.exists("/dev/fuse"):
        print("powerloss: /dev/fuse is missing: the suite needs FUSE (a container needs --device /dev/fuse and "
              "CAP_SYS_ADMIN)", file=sys.stderr)
        return 69
    for b, what in ((MT, "build it with `swift build` (make test does)"),
                    (SIM, "build it with `swift build --package-path Sim` (make test does)")):
        if not os.access(b, os.X_OK):
            print(f"powerloss: {b} is not built: {what}", file=sys.stderr)
            return 69
    tmp = tempfile.mkdtemp(prefix="mt-powerloss-")
    h = Harness(tmp)
    suite = Suite(h)
    interrupted = []

    def stop(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        h.build()
        h.keys()
        if sys.argv[1:] == ["--oplog", "withdraw"]:
            # the operations of one clean withdrawal after an export and a recovery, to choose triggers by
            suite.make_template()
            suite.make_withdraw_template()
            h.mount(suite.fresh_backing(suite.wd_template), verbose=True)
            try:
                r = h.mt("withdraw", "sim", WITHDRAWN, "--yes")
            finally:
                h.unmount()
            print(h.fs_output())
            print(f"mt withdraw exited {r.returncode}")
            return r.returncode
        if sys.argv[1:] == ["--oplog"]:
            # the operations of one clean export from an empty PATH, to choose triggers by
            h.serve(h.batch(suite.ids()))
            h.mount(suite.fresh_backing(), verbose=True)
            try:
                r = h.mt("export")
            finally:
                h.unmount()
            print(h.fs_output())
            print(f"mt export exited {r.returncode}")
            return r.returncode
        suite.selftest()
        suite.make_template()
        for i in range(ROUNDS):
            phase, trigger = EXPORT_PHASES[i % len(EXPORT_PHASES)]
            suite.export_round("empty-PATH", phase, trigger)
        for i in range(ROUNDS):
            # from an export of today (the CSVs exist) and of yesterday (today's CSVs are new), in turn
            phase, trigger = EXPORT_PHASES[(i // 2) % len(EXPORT_PHASES)]
            if i % 2 == 0:
                suite.export_round("existing-PATH", phase, trigger, template=suite.template)
            else:
                suite.export_round("existing-PATH(yesterday's CSVs)", phase, trigger, template=suite.template_yesterday)
        for i, (phase, trigger) in enumerate(EXPORT_PHASES[:CONTROL]):
            if i % 2 == 0:
                suite.export_round("control empty-PATH", phase, trigger, cut=False)
            else:
                suite.export_round("control existing-PATH(yesterday's CSVs)", phase, trigger,
                                   template=suite.template_yesterday, cut=False)
        suite.make_release_template()
        for i in range(EXTRA):
            phase, trigger = RELEASE_PHASES[(i // 2) % len(RELEASE_PHASES)]
            suite.release_round(phase, trigger, yesterday=i % 2 == 1)
        for i in range(EXTRA):
            phase, trigger = RECOVER_PHASES[i % len(RECOVER_PHASES)]
            suite.recover_round(phase, trigger)
        suite.make_withdraw_template()
        for phase, trigger in WITHDRAW_PHASES:
            suite.withdraw_round(phase, trigger)
        for phase, trigger in WITHDRAW_CONTROL:
            suite.withdraw_round(phase, trigger, cut=False)
    except KeyboardInterrupt:
        print("powerloss: interrupted", file=sys.stderr)
        suite.failed += 1
    except Exception:
        traceback.print_exc()
        suite.failed += 1
    finally:
        h.close()
        if os.environ.get("MT_POWERLOSS_KEEP") == "1":
            print(f"powerloss: kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{suite.passed} passed, {suite.failed} failed ({time.time() - suite.started:.0f} s)")
    return 1 if suite.failed or interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
