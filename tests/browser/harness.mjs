// Starts nanbyo-accounts on 127.0.0.1 on a free port with a fresh data folder, runs console commands
// against the same folder, and opens Debian's Chromium through playwright-core. Everything stops by
// itself: the server is killed when the test ends, and a watchdog kills it after a time limit.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const repo = resolve(import.meta.dirname, "..", "..");
// The release binary, as users run it (CI builds it once for every suite); NANBYO_BIN overrides.
export const binary = process.env.NANBYO_BIN ?? join(repo, "target", "release", "nanbyo-accounts");
export const shots = join(import.meta.dirname, "screenshots");

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

export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), "nanbyo-browser-"));
  const port = await freePort();
  const env = {
    ...process.env,
    NANBYO_DATA_DIR: dataDir,
    ROCKET_ADDRESS: "127.0.0.1",
    ROCKET_PORT: String(port),
    ROCKET_LOG_LEVEL: "off",
    ROCKET_CONFIG: join(dataDir, "none.toml"),
  };
  // With NANBYO_TEST_POSTGRES (an admin URL, see .ci/postgres.sh) the walk runs on a fresh
  // PostgreSQL database; otherwise on the SQLite default in the data folder.
  const admin = process.env.NANBYO_TEST_POSTGRES;
  if (admin) {
    const name = `browser_${process.pid}_${port}`;
    execFileSync("psql", [admin, "-qc", `CREATE DATABASE "${name}"`]);
    env.ROCKET_DATABASES = `{nanbyo={url="${admin.replace(/\/[^/]*$/, "/" + name)}"}}`;
  }
  const cli = (...args) => execFileSync(binary, args, { env, encoding: "utf8" });
  cli("migrate");
  const child = spawn(binary, ["serve"], { env, stdio: ["ignore", "inherit", "inherit"] });
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 10 * 60 * 1000);
  watchdog.unref();
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    cli,
    stop() {
      clearTimeout(watchdog);
      child.kill("SIGTERM");
    },
  };
}

export async function launchBrowser() {
  mkdirSync(shots, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/// The two lines the console prints for a new temporary password.
export function credentials(output) {
  const id = output.match(/ログインID: (\S+)/)[1];
  const password = output.match(/初期パスワード: (\S+)/)[1];
  return { id, password };
}
