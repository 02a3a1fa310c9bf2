#!/usr/bin/env python3
"""A full disk (the appliance issue): the release binary's data folder on a small tmpfs (root only),
filled up; a CSV import on the console and a registration on the screen must each end in the
Japanese message naming the cause — never database text — and change nothing.

    python3 .ci/diskfull.py [path/to/nanbyo-accounts]

Prints one line per check and `# pass N` / `# fail N`.
"""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smoke  # noqa: E402  (the smoke path's browser, console and server helpers)
from smoke import Browser, check, console, csrf_of, free_port, login, start, stop  # noqa: E402

FULL = "ディスクの空き容量が不足"


def main():
    if os.geteuid() != 0:
        print("diskfull: needs root to mount a tmpfs")
        print("# pass 0\n# fail 1")
        sys.exit(1)
    work = tempfile.mkdtemp(prefix="nanbyo-diskfull-")
    mnt = os.path.join(work, "small")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt], check=True)
    server = None
    try:
        data = os.path.join(mnt, "data")
        env = {k: v for k, v in os.environ.items() if not (k.startswith("ROCKET_") or k.startswith("NANBYO_"))}
        env.update(NANBYO_DATA_DIR=data, ROCKET_ADDRESS="127.0.0.1", ROCKET_CONFIG=os.path.join(work, "none.toml"))
        console(env, work, "municipality", "add", "--code", "131041", "--name", "新宿区")
        console(env, work, "institution", "add", "--code", "1311234567", "--name", "東京中央病院", "--municipality", "131041")
        ok, out, err = console(env, work, "bootstrap", "--institution", "1311234567", "--db", "nanbyo",
                               "--family", "髙橋", "--given", "美咲", "--family-kana", "タカハシ",
                               "--given-kana", "ミサキ", "--department", "医事課")
        lid = re.search(r"ログインID: (\S+)", out).group(1)
        pw = re.search(r"初期パスワード: (\S+)", out).group(1)
        port = free_port()
        server = start(env, work, port, subprocess.DEVNULL)
        b = Browser(port)
        login(b, lid, pw)
        _, text = b.page("/password")
        b.request("POST", "/password", {"csrf": csrf_of(text), "current": pw, "new": smoke.PASSWORD,
                                        "confirm": smoke.PASSWORD})
        _, form = b.page("/users/new")
        rows = ["ユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）"]
        rows += [f"医療クラーク等,第{i % 40 + 1}病棟,齋藤,花子{i},サイトウ,ハナコ" for i in range(3000)]
        csv = os.path.join(work, "staff.csv")
        open(csv, "w", encoding="utf-8-sig", newline="\r\n").write("\n".join(rows) + "\n")

        # Fill the disk to the last byte.
        fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT)
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
        os.close(fd)

        ok, out, err = console(env, work, "import", csv, "--as", lid)
        check(not ok and FULL in err, "console import on a full disk: the Japanese message", err[-300:])
        check("database or disk is full" not in err and "code: 13" not in err,
              "console import on a full disk: no database text", err[-300:])
        res, body = b.request("POST", "/users/new", {
            "csrf": csrf_of(form), "user_type": "clerk", "db": "", "profile.department": "医事課",
            "profile.family_name": "山﨑", "profile.given_name": "花子", "profile.family_kana": "ヤマザキ",
            "profile.given_kana": "ハナコ"})
        text = body.decode("utf-8", "replace")
        check(res.status == 507 and FULL in text and 'lang="ja"' in text,
              "registration on a full disk: a Japanese page naming the cause", f"{res.status} {text[:200]}")
        check("database or disk is full" not in text, "registration on a full disk: no database text")
        stop(server)
        server = None
        os.remove(os.path.join(mnt, "filler"))
        ok, out, err = console(env, work, "audit", "verify")
        check(ok, "after freeing space the audit chain verifies", out + err)
        count = subprocess.run(["sqlite3", os.path.join(data, "nanbyo.db"), "SELECT COUNT(*) FROM users"],
                               capture_output=True, text=True).stdout.strip()
        check(count == "1", "nothing was half-written (only the 責任者 exists)", count)
    finally:
        if server:
            stop(server)
        subprocess.run(["umount", mnt])
    print(f"# pass {smoke.passed}")
    print(f"# fail {smoke.failed}")
    sys.exit(1 if smoke.failed else 0)


if __name__ == "__main__":
    main()
