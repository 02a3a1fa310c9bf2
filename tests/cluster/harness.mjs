// Two release server processes on one database behind nginx (round-robin), plus the console on the same
// data folder. The database is one SQLite file in a fresh data folder, or, when NANBYO_TEST_POSTGRES holds
// an admin URL (postgres://postgres@127.0.0.1:5432/postgres), a fresh PostgreSQL database created for the
// run. Everything started here is stopped when the run ends, however it ends (test hook, exit, signal,
// or a watchdog).
//
// Only Node built-ins: node:http (for `localAddress`: each simulated client has its own 127.x.y.z source
// address, which nginx passes on as X-Real-IP), node:child_process for the binary, nginx, sqlite3, psql
// and pdftotext.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, statSync, readdirSync, existsSync, openSync, rmSync, chmodSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

export const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
export const binary = process.env.NANBYO_BIN ?? join(repo, "target", "release", "nanbyo-accounts");

/// The password every test account chooses (policy: ≥ 13 characters mixing letters, digits, symbols).
export const OWN_PASSWORD = "Kx7#mq2!Rv9$zT";

// ---------------------------------------------------------------------------------------------------
// Processes: every child is remembered and killed on the way out.

const children = new Set();
const cleanups = [];

/// nginx always gets SIGTERM (its fast shutdown, which also ends its workers; SIGKILL would leave them).
function killAll(signal = "SIGTERM") {
  for (const c of children) {
    try {
      c.kill(c.isNginx ? "SIGTERM" : signal);
    } catch {
      /* already gone */
    }
  }
}

/// What must not outlive the run even when the test runner is interrupted: the throw-away PostgreSQL
/// database and the temp folder (synchronous, for the exit and signal handlers).
const syncCleanups = [];
function cleanUpNow() {
  killAll("SIGKILL");
  for (const f of syncCleanups.splice(0)) {
    try {
      f();
    } catch {
      /* best effort */
    }
  }
}
process.once("exit", cleanUpNow);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(sig, () => {
    cleanUpNow();
    process.exit(130);
  });
}

function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/// Runs a command to its end; resolves with { code, stdout, stderr } (never rejects on a non-zero exit).
export function run(cmd, args, { env, cwd, input, timeoutMs = 120_000 } = {}) {
  return new Promise((ok, fail) => {
    const child = track(spawn(cmd, args, { env, cwd, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] }));
    const out = [];
    const err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      ok({
        code: code ?? (signal ? 128 : -1),
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    if (input !== undefined) {
      child.stdin.on("error", () => {});
      child.stdin.end(input);
    }
  });
}

async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

/// The release binary, built when missing or older than src/ (or templates/, static/, Cargo.*). With
/// NANBYO_BIN set, that binary is used as it is.
export function ensureBinary() {
  if (process.env.NANBYO_BIN) return binary;
  const inputs = ["src", "templates", "static", "fonts"]
    .map((d) => join(repo, d))
    .filter(existsSync)
    .map(newestMtime);
  for (const f of ["Cargo.toml", "Cargo.lock"]) inputs.push(statSync(join(repo, f)).mtimeMs);
  const sources = Math.max(...inputs);
  if (!existsSync(binary) || statSync(binary).mtimeMs < sources) {
    console.error("# building the release binary (cargo build --release)");
    execFileSync("cargo", ["build", "--release", "--bin", "nanbyo-accounts"], {
      cwd: repo,
      stdio: ["ignore", "inherit", "inherit"],
    });
  }
  return binary;
}

function which(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim() || null;
}

// ---------------------------------------------------------------------------------------------------
// Source addresses: every simulated client gets its own, so the per-address throttle only matters in the
// trial about it. 127.0.0.1 is left to the harness itself.

let nextAddr = 0;
export function freshAddress() {
  nextAddr += 1;
  const n = nextAddr;
  return `127.${10 + Math.floor(n / 62_500)}.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
}

// ---------------------------------------------------------------------------------------------------
// HTTP: a client with a cookie jar and a fixed source address; no redirects followed.

export class Client {
  constructor(base, { localAddress = freshAddress(), cookies } = {}) {
    this.base = new URL(base);
    this.localAddress = localAddress;
    this.cookies = new Map(cookies ?? []);
  }

  /// The same cookies, another server or address.
  clone(base, opts = {}) {
    return new Client(base ?? this.base.href, { cookies: this.cookies, ...opts });
  }

  request(method, path, { form, headers = {}, timeoutMs = 60_000 } = {}) {
    const body = form ? new URLSearchParams(form).toString() : null;
    const h = { ...headers, Connection: "close" };
    if (method === "POST") {
      // What a browser sends with a form posted from the server's own page.
      h.Origin ??= this.base.origin;
      h["Sec-Fetch-Site"] ??= "same-origin";
    }
    if (body !== null) {
      h["Content-Type"] = "application/x-www-form-urlencoded";
      h["Content-Length"] = Buffer.byteLength(body);
    }
    if (this.cookies.size) h.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    return new Promise((ok, fail) => {
      const req = httpRequest(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          headers: h,
          localAddress: this.localAddress,
          agent: false,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks = [];
          res.on("data", (d) => chunks.push(d));
          res.on("end", () => {
            for (const c of [res.headers["set-cookie"] ?? []].flat()) this.#store(c);
            const raw = Buffer.concat(chunks);
            ok({
              status: res.statusCode,
              headers: res.headers,
              raw,
              body: raw.toString("utf8"),
              location: res.headers.location ?? null,
            });
          });
          res.on("error", fail);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on("error", fail);
      req.end(body ?? undefined);
    });
  }

  #store(setCookie) {
    const [pair, ...attrs] = setCookie.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const gone = attrs.some((a) => {
      const [k, v] = a.trim().split("=");
      if (k.toLowerCase() === "max-age") return Number(v) <= 0;
      if (k.toLowerCase() === "expires") return Date.parse(v) < Date.now();
      return false;
    });
    if (gone || value === "") this.cookies.delete(name);
    else this.cookies.set(name, value);
  }

  get(path, opts) {
    return this.request("GET", path, opts);
  }

  post(path, form, opts) {
    return this.request("POST", path, { ...opts, form });
  }
}

/// The CSRF token of a page (a hidden input named `csrf`).
export function csrfOf(html) {
  const m = html.match(/name="csrf" value="([^"]+)"/);
  if (!m) throw new Error(`no csrf token in page: ${html.slice(0, 300)}`);
  return m[1];
}

/// GET /login (pre-session cookie + token); returns the form fields to POST, minus the credentials.
export async function prepareLogin(client) {
  const page = await client.get("/login");
  if (page.status !== 200) throw new Error(`GET /login: ${page.status}`);
  return { csrf: csrfOf(page.body) };
}

/// Logs in; returns where the server sent the browser ("/" or "/password").
export async function login(client, loginId, password) {
  const { csrf } = await prepareLogin(client);
  const r = await client.post("/login", { csrf, login_id: loginId, password });
  if (r.status !== 303 || !r.location) {
    throw new Error(`login ${loginId} failed: ${r.status} ${r.body.match(/<p>([^<]*)<\/p>/)?.[1] ?? ""}`);
  }
  return r.location;
}

/// Logs in with a temporary password and sets OWN_PASSWORD.
export async function loginAndSetPassword(client, loginId, temporary, own = OWN_PASSWORD) {
  const where = await login(client, loginId, temporary);
  if (where !== "/password") throw new Error(`expected the forced password change, got ${where}`);
  const page = await client.get("/password");
  const r = await client.post("/password", { csrf: csrfOf(page.body), current: temporary, new: own, confirm: own });
  if (r.status !== 303) {
    throw new Error(`password change of ${loginId}: ${r.status} ${r.body.match(/<li>.*?<\/li>/gs)?.join(" ") ?? ""}`);
  }
}

/// The two lines the console prints for a new temporary password.
export function credentials(output) {
  const id = output.match(/ログインID: (\S+)/)?.[1];
  const password = output.match(/初期パスワード: (\S+)/)?.[1];
  if (!id || !password) throw new Error(`no credentials in: ${output}`);
  return { id, password };
}

// ---------------------------------------------------------------------------------------------------
// CSV files for the console's `import`.

const HEADER = ["ユーザ種別", "対象DB", "部署", "氏名（姓）", "氏名（名）", "フリガナ（セイ）", "フリガナ（メイ）", "医籍登録番号"];

/// rows: [{ type, db, department, family, given, familyKana, givenKana, regNo, institution }]. A
/// 自治体担当者's file also carries 医療機関コード (pass withInstitution).
export function csv(rows, { withInstitution = false } = {}) {
  const header = withInstitution ? ["医療機関コード", ...HEADER] : HEADER;
  const lines = [header.join(",")];
  for (const r of rows) {
    const cells = [r.type, r.db ?? "", r.department, r.family, r.given, r.familyKana, r.givenKana, r.regNo ?? ""];
    if (withInstitution) cells.unshift(r.institution);
    lines.push(cells.join(","));
  }
  return "\ufeff" + lines.join("\r\n") + "\r\n";
}

// ---------------------------------------------------------------------------------------------------
// The cluster.

/// Text that is not a Japanese answer but leaked database or library text.
export const DATABASE_TEXT =
  /duplicate key|unique constraint|violates|constraint failed|sqlstate|sqlx|error returned from database|database is locked|deadlock|could not serialize|pool timed out|panicked/i;
export const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;

/// Whether `stderr` leaks database or library text. The login IDs the warnings name are left out
/// first: they are random letters and digits, and one in a few hundred thousand spells SQLX.
export function leaksDatabaseText(stderr) {
  return DATABASE_TEXT.test(stderr.replace(/ログインID [A-Z2-9]{8}/g, "ログインID ********"));
}

export async function startCluster({ instances = 2 } = {}) {
  ensureBinary();
  for (const tool of ["nginx", "pdftotext"]) {
    if (!which(tool)) throw new Error(`${tool} is missing (run .ci/cluster.sh, which installs it)`);
  }
  const root = mkdtempSync(join(tmpdir(), "nanbyo-cluster-"));
  chmodSync(root, 0o755);
  const dataDir = join(root, "data");
  const workDir = join(root, "cwd");
  const logDir = join(root, "logs");
  for (const d of [dataDir, workDir, logDir]) mkdirSync(d);

  const adminUrl = process.env.NANBYO_TEST_POSTGRES || null;
  const dialect = adminUrl ? "postgres" : "sqlite";
  let databaseUrl = null;
  let dbName = null;
  if (adminUrl) {
    if (!which("psql")) throw new Error("psql is missing (apt-get install postgresql-client)");
    dbName = `nanbyo_cluster_${process.pid}_${Date.now().toString(36)}`;
    const r = await run("psql", [adminUrl, "-X", "-v", "ON_ERROR_STOP=1", "-qc", `CREATE DATABASE ${dbName}`]);
    if (r.code !== 0) throw new Error(`CREATE DATABASE: ${r.stderr}`);
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    databaseUrl = u.href;
  }
  const sqliteFile = join(dataDir, "nanbyo.db");

  const baseEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("ROCKET_") && !k.startsWith("NANBYO_")) baseEnv[k] = v;
  }
  Object.assign(baseEnv, {
    NANBYO_DATA_DIR: dataDir,
    ROCKET_CONFIG: join(root, "no-such-Rocket.toml"),
    ROCKET_ADDRESS: "127.0.0.1",
    ROCKET_IP_HEADER: "X-Real-IP",
    ROCKET_LOG_LEVEL: "off",
  });
  if (databaseUrl) baseEnv.ROCKET_DATABASES = `{nanbyo={url="${databaseUrl}"}}`;
  // For running the suite against an older build that needs extra settings (a JSON object of variables,
  // e.g. {"ROCKET_SECRET_KEY":"…"}); unset in CI.
  if (process.env.NANBYO_CLUSTER_ENV) Object.assign(baseEnv, JSON.parse(process.env.NANBYO_CLUSTER_ENV));

  /// A console command on the shared data folder: { code, stdout, stderr }.
  const cli = (args, opts = {}) => run(binary, args, { env: baseEnv, cwd: workDir, ...opts });
  /// The same, failing on a non-zero exit; returns stdout.
  const cliOk = async (args, opts) => {
    const r = await cli(args, opts);
    if (r.code !== 0) throw new Error(`nanbyo-accounts ${args.join(" ")}: exit ${r.code}\n${r.stderr}${r.stdout}`);
    return r.stdout + r.stderr;
  };

  /// One SQL query on the database (sqlite3 or psql); rows as arrays of strings.
  const sql = async (query) => {
    const r = adminUrl
      ? await run("psql", [databaseUrl, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-c", query])
      : await run("sqlite3", ["-batch", "-noheader", "-separator", "\t", "-cmd", ".timeout 20000", sqliteFile, query]);
    if (r.code !== 0) throw new Error(`sql ${query}: ${r.stderr}`);
    return r.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("\t"));
  };
  const sqlValue = async (query) => (await sql(query))[0]?.[0] ?? null;

  const stopHandlers = [];
  let stopped = false;
  const removeNow = () => {
    if (process.env.NANBYO_CLUSTER_KEEP) return;
    if (adminUrl) spawnSync("psql", [adminUrl, "-X", "-qc", `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`], { stdio: "ignore" });
    rmSync(root, { recursive: true, force: true });
  };
  syncCleanups.push(removeNow);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    syncCleanups.splice(syncCleanups.indexOf(removeNow), 1);
    clearTimeout(watchdog);
    for (const h of stopHandlers.reverse()) {
      try {
        await h();
      } catch (e) {
        console.error(`# cleanup: ${e.message}`);
      }
    }
    if (adminUrl && !process.env.NANBYO_CLUSTER_KEEP) {
      await run("psql", [adminUrl, "-X", "-qc", `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`]);
    }
    if (!process.env.NANBYO_CLUSTER_KEEP) rmSync(root, { recursive: true, force: true });
    else console.error(`# kept ${root}${dbName ? ` and database ${dbName}` : ""}`);
  };
  cleanups.push(stop);
  // Nothing may outlive a hung run.
  const watchdog = setTimeout(() => {
    console.error("# watchdog: the cluster ran for 15 minutes, stopping it");
    killAll("SIGKILL");
  }, 15 * 60 * 1000);
  watchdog.unref();

  // Migrations and keys/ first, from one process, so that the servers never race to create them.
  await cliOk(["migrate"]);

  const startProcess = (name, cmd, args, env) => {
    const out = openSync(join(logDir, `${name}.log`), "a");
    const child = track(spawn(cmd, args, { env, cwd: workDir, stdio: ["ignore", out, out] }));
    stopHandlers.push(
      () =>
        new Promise((ok) => {
          if (child.exitCode !== null || child.signalCode !== null) return ok();
          const t = setTimeout(() => child.kill("SIGKILL"), 5000);
          child.once("exit", () => {
            clearTimeout(t);
            ok();
          });
          child.kill("SIGTERM");
        }),
    );
    return child;
  };

  const waitHealthy = async (base, child, name) => {
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) {
        throw new Error(`${name} exited (${child.exitCode}): ${readFileSync(join(logDir, `${name}.log`), "utf8")}`);
      }
      try {
        const r = await new Client(base, { localAddress: "127.0.0.1" }).get("/health", { timeoutMs: 2000 });
        if (r.status === 200) return;
      } catch {
        /* not up yet */
      }
      await sleep(100);
    }
    throw new Error(`${name} did not become healthy at ${base}`);
  };

  const servers = [];
  for (let i = 0; i < instances; i++) {
    const port = await freePort();
    const name = `server-${"AB"[i] ?? i}`;
    const child = startProcess(name, binary, ["serve"], { ...baseEnv, ROCKET_PORT: String(port) });
    servers.push({ name, port, base: `http://127.0.0.1:${port}`, child });
  }
  for (const s of servers) await waitHealthy(s.base, s.child, s.name);

  // nginx in front, round-robin over the instances, passing the client's address on.
  const nginxDir = join(root, "nginx");
  mkdirSync(nginxDir);
  for (const d of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(nginxDir, d));
  const proxyPort = await freePort();
  const conf = join(nginxDir, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
user root;
worker_processes 1; # one round-robin state: consecutive requests alternate between the instances
pid ${nginxDir}/nginx.pid;
error_log ${logDir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  log_format cluster '$remote_addr $request_method $uri $status $upstream_addr';
  access_log ${logDir}/nginx-access.log cluster;
  client_body_temp_path ${nginxDir}/client_body;
  proxy_temp_path ${nginxDir}/proxy;
  fastcgi_temp_path ${nginxDir}/fastcgi;
  uwsgi_temp_path ${nginxDir}/uwsgi;
  scgi_temp_path ${nginxDir}/scgi;
  client_max_body_size 16m;
  upstream nanbyo {
${servers.map((s) => `    server 127.0.0.1:${s.port};`).join("\n")}
  }
  server {
    listen 127.0.0.1:${proxyPort};
    location / {
      proxy_pass http://nanbyo;
      # $http_host keeps the port, so that the browser's Origin matches the Host the instance sees.
      proxy_set_header Host $http_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_next_upstream off;
      proxy_read_timeout 120s;
    }
  }
}
`,
  );
  const nginx = startProcess("nginx", which("nginx"), ["-c", conf, "-p", nginxDir], baseEnv);
  nginx.isNginx = true;
  const proxy = { name: "nginx", port: proxyPort, base: `http://127.0.0.1:${proxyPort}`, child: nginx };
  await waitHealthy(proxy.base, nginx, "nginx");

  /// nginx's access log: { addr, method, uri, status, upstream } per request.
  const accessLog = () =>
    readFileSync(join(logDir, "nginx-access.log"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [addr, method, uri, status, upstream] = l.split(" ");
        return { addr, method, uri, status: Number(status), upstream };
      });

  return { root, dataDir, workDir, logDir, dialect, accessLog, databaseUrl, sqliteFile, env: baseEnv, servers, proxy, cli, cliOk, sql, sqlValue, stop };
}

/// Stops every cluster still running (for an `after` hook).
export async function stopAll() {
  for (const c of cleanups.splice(0)) await c();
}

/// The password printed on a notice PDF (text extracted with pdftotext), keyed by login ID.
export async function passwordsFromNotice(pdfPath) {
  const r = await run("pdftotext", ["-layout", "-enc", "UTF-8", pdfPath, "-"]);
  if (r.code !== 0) throw new Error(`pdftotext: ${r.stderr}`);
  const out = new Map();
  for (const page of r.stdout.split("\f")) {
    const id = page.match(/ログインID\s+([A-Z0-9]{6,16})/)?.[1];
    const pw = page.match(/初期パスワード\s+(\S{12,})/)?.[1];
    if (id && pw) out.set(id, pw);
  }
  return out;
}
