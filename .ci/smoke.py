#!/usr/bin/env python3
"""The release binary as a newcomer runs it (the README's first command, the unit's ExecStart): from
another working directory, a fresh data folder, no secret in the environment. A smoke path through
the product, a restart that must keep sessions and printed notices working, and the same server on
HTTPS with a throw-away CA (cookies __Host- and Secure, HSTS).

    python3 .ci/smoke.py [path/to/nanbyo-accounts]     (default: target/release/nanbyo-accounts)

With NANBYO_TEST_POSTGRES set (an admin URL, see .ci/postgres.sh) the run uses a fresh PostgreSQL
database instead of the SQLite default. Prints one line per check and `# pass N` / `# fail N`.
"""

import html
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/nanbyo-accounts"))
PASSWORD = "Kumo-no-ue7Sora#"
passed, failed = 0, 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"not ok - {what} {detail}".rstrip())
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Cookies, CSRF tokens and forms, over plain HTTP or HTTPS with a given CA."""

    def __init__(self, port, ca=None):
        self.port, self.ca, self.cookies, self.last_set_cookies = port, ca, {}, []

    def request(self, method, path, fields=None, headers=None):
        if self.ca:
            ctx = ssl.create_default_context(cafile=self.ca)
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=h)
        res = conn.getresponse()
        data = res.read()
        self.last_set_cookies = res.headers.get_all("Set-Cookie") or []
        for c in self.last_set_cookies:
            name, _, rest = c.partition("=")
            value = rest.split(";", 1)[0]
            if value == "" or "Max-Age=0" in c or "expires=Thu, 01 Jan 1970" in c.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        conn.close()
        return res, data

    def page(self, path):
        res, data = self.request("GET", path)
        return res, data.decode("utf-8", "replace")


def csrf_of(text):
    m = re.search(r'name="csrf" value="([^"]+)"', text)
    return m.group(1) if m else ""


def start(env, cwd, port, log):
    p = subprocess.Popen([BIN, "serve"], cwd=cwd, env={**env, "ROCKET_PORT": str(port)},
                         stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        if p.poll() is not None:
            return p
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return p
        except OSError:
            time.sleep(0.1)
    return p


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def console(env, cwd, *args):
    r = subprocess.run([BIN, *args], cwd=cwd, env=env, capture_output=True, text=True)
    return r.returncode == 0, r.stdout, r.stderr


def login(b, login_id, password):
    _, text = b.page("/login")
    res, _ = b.request("POST", "/login", {"csrf": csrf_of(text), "login_id": login_id, "password": password})
    return res


def main():
    work = tempfile.mkdtemp(prefix="nanbyo-smoke-")
    elsewhere = os.path.join(work, "elsewhere")
    os.makedirs(elsewhere)
    data = os.path.join(work, "data")
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("ROCKET_") or k.startswith("NANBYO_"))}
    env.update(NANBYO_DATA_DIR=data, ROCKET_ADDRESS="127.0.0.1")
    admin = os.environ.get("NANBYO_TEST_POSTGRES")
    if admin:
        name = f"smoke_{os.getpid()}_{int(time.time())}"
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
        env["ROCKET_DATABASES"] = '{nanbyo={url="%s"}}' % (admin.rsplit("/", 1)[0] + "/" + name)
    print(f"# release binary {BIN}, database {'PostgreSQL' if admin else 'SQLite'}, cwd {elsewhere}")
    log = open(os.path.join(work, "server.log"), "wb")
    port = free_port()
    server = start(env, elsewhere, port, log)
    try:
        b = Browser(port)
        res, text = b.page("/health")
        check(res.status == 200 and '"status":"ok"' in text, "the release server starts on a fresh data folder", text)
        check(os.path.isfile(os.path.join(data, "keys", "rocket_secret.key")), "keys generated into the data folder")
        mode = os.stat(os.path.join(data, "keys", "audit.key")).st_mode & 0o777 if os.path.exists(os.path.join(data, "keys", "audit.key")) else None
        check(mode == 0o600, "keys are private (0600)", oct(mode or 0))

        ok1, _, e1 = console(env, elsewhere, "municipality", "add", "--code", "131041", "--name", "新宿区")
        ok2, _, e2 = console(env, elsewhere, "institution", "add", "--code", "1311234567", "--name", "東京中央病院", "--municipality", "131041")
        ok3, out, e3 = console(env, elsewhere, "bootstrap", "--institution", "1311234567", "--db", "nanbyo",
                               "--family", "髙橋", "--given", "美咲", "--family-kana", "タカハシ", "--given-kana", "ミサキ",
                               "--department", "医事課")
        check(ok1 and ok2 and ok3, "console: municipality, institution, bootstrap", e1 + e2 + e3)
        lid = re.search(r"ログインID: (\S+)", out)
        pw = re.search(r"初期パスワード: (\S+)", out)
        lid, pw = (lid.group(1) if lid else ""), (pw.group(1) if pw else "")

        res = login(b, lid, pw)
        check(res.status == 303 and res.getheader("Location") == "/password", "login with the printed password leads to /password")
        _, text = b.page("/password")
        res, _ = b.request("POST", "/password", {"csrf": csrf_of(text), "current": pw, "new": PASSWORD, "confirm": PASSWORD})
        check(res.status == 303 and res.getheader("Location") == "/", "own password set")
        _, text = b.page("/")
        check("髙橋" in text and "ログアウト" in text, "the menu names the person")

        _, text = b.page("/users/new")
        res, body = b.request("POST", "/users/new", {
            "csrf": csrf_of(text), "user_type": "clerk", "db": "",
            "profile.department": "第2病棟", "profile.family_name": "山﨑", "profile.given_name": "邊子",
            "profile.family_kana": "ヤマザキ", "profile.given_kana": "ナベコ",
        })
        text = body.decode()
        if res.status == 303:
            res, text = b.page(res.getheader("Location"))
        m = re.search(r'action="/users/(\d+)/notice"', text)
        check(m is not None and "山﨑" in text, "a 医療クラーク等 registered", text[:300])
        clerk_id = m.group(1) if m else "0"
        clerk_login = re.search(r"\b([A-HJ-NP-Z2-9]{8})\b", re.sub(lid, "", text))
        _, text = b.page("/users?" + urllib.parse.urlencode({"name": "山崎"}))
        check("山﨑" in text and "通知書未発行" in text, "search finds 山﨑 as 山崎, 通知書未発行")

        _, text = b.page("/users")
        res, pdf = b.request("POST", f"/users/{clerk_id}/notice", {"csrf": csrf_of(text)})
        check(res.status == 200 and pdf.startswith(b"%PDF") and "no-store" in (res.getheader("Cache-Control") or ""),
              "the notice PDF is issued (no-store)")
        pdf_path = os.path.join(work, "notice.pdf")
        open(pdf_path, "wb").write(pdf)
        txt = subprocess.run(["pdftotext", "-layout", pdf_path, "-"], capture_output=True, text=True).stdout
        check("山﨑" in txt and "邊子" in txt and "IDパスワード発行通知書" in txt.replace(" ", ""), "the notice reads 山﨑 邊子", txt[:200])
        pm = re.search(r"初期パスワード\s+(\S{16,})", txt)
        lm = re.search(r"ログインID\s+([A-HJ-NP-Z2-9]{8})", txt)
        clerk_pw = pm.group(1) if pm else ""
        clerk_lid = lm.group(1) if lm else (clerk_login.group(1) if clerk_login else "")
        check(bool(clerk_pw) and bool(clerk_lid), "login ID and password copied out of the PDF", txt[:400])

        # A restart reuses the generated keys: the session and the printed notice still work.
        stop(server)
        server = start(env, elsewhere, port, log)
        res, text = b.page("/")
        check(res.status == 200 and "髙橋" in text, "after a restart the session is still valid")
        c = Browser(port)
        res = login(c, clerk_lid, clerk_pw)
        check(res.status == 303 and res.getheader("Location") == "/password",
              "after a restart the printed notice's password logs in")
        ok, out, err = console(env, elsewhere, "audit", "verify")
        check(ok, "audit verify", out + err)
    finally:
        stop(server)

    # The same server on HTTPS with a throw-away CA and server certificate.
    tls = os.path.join(work, "tls")
    os.makedirs(tls)
    sh = lambda *a: subprocess.run(a, cwd=tls, check=True, capture_output=True)
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
       "-days", "2", "-subj", "/CN=nanbyo test CA")
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
       "-subj", "/CN=localhost")
    open(os.path.join(tls, "san.ext"), "w").write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    sh("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
       "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    tls_env = {**env, "ROCKET_TLS": f'{{certs="{tls}/server.pem",key="{tls}/server.key"}}'}
    port = free_port()
    server = start(tls_env, elsewhere, port, log)
    try:
        b = Browser(port, ca=os.path.join(tls, "ca.pem"))
        res, text = b.page("/login")
        pre = [c for c in b.last_set_cookies if c.startswith("__Host-nanbyo_pre=")]
        check(res.status == 200 and pre and "Secure" in pre[0], "HTTPS: the login page sets a __Host- Secure pre-session cookie", str(b.last_set_cookies))
        check("max-age" in (res.getheader("Strict-Transport-Security") or ""), "HTTPS: HSTS is sent")
        res, _ = b.request("POST", "/login", {"csrf": csrf_of(text), "login_id": lid, "password": PASSWORD})
        session = [c for c in b.last_set_cookies if c.startswith("__Host-nanbyo_session=")]
        attrs = session[0] if session else ""
        check(res.status == 303 and all(a in attrs for a in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/")),
              "HTTPS: login sets __Host-nanbyo_session HttpOnly SameSite=Strict Secure", str(b.last_set_cookies))
        res, text = b.page("/")
        check(res.status == 200 and "髙橋" in text, "HTTPS: the session works")
    finally:
        stop(server)
        log.close()

    if failed:
        sys.stdout.write(open(os.path.join(work, "server.log"), "rb").read().decode("utf-8", "replace")[-3000:])
    shutil.rmtree(work, ignore_errors=True)
    print(f"# pass {passed}")
    print(f"# fail {failed}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
