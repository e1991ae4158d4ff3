import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// The tests run target/debug/starfront with the dev-preview feature (scripts/build.sh --dev-preview
// builds it; in scripts/test.sh the server's own tests do), on its own port and a throwaway data dir.
const root = resolve(__dirname, "..");
const port = Number(process.env.E2E_PORT ?? 3917);
// Workers load this file again; they inherit the runner's directory through the environment,
// so the tests can compare downloads with the files the server stored.
const dataDir =
  process.env.STARFRONT_E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), "starfront-e2e-"));
process.env.STARFRONT_E2E_DATA_DIR = dataDir;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      // The system Chromium (Debian's package); Playwright never downloads a browser here.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `${join(root, "target/debug/starfront")}`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    env: {
      BIND: `127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      DEV_PREVIEW: "1",
      LEPTOS_SITE_ROOT: join(root, "target/site"),
      RUST_LOG: "warn",
    },
  },
});
