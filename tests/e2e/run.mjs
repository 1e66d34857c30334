// Runs the end-to-end tests against dist/ (build it first: trunk build --release).
//   node tests/e2e/run.mjs [--grep TEXT] [--shots DIR] [--workers N]   (N = 2 by default)
import path from "node:path";
import { runAll, repo } from "./harness.mjs";
import "./shell.spec.mjs";
import "./function.spec.mjs";
import "./chapters1.spec.mjs";
import "./chapters2.spec.mjs";
import "./model.spec.mjs";
import "./llm.spec.mjs";
import "./kernels.spec.mjs";
import "./tour.spec.mjs";
import "./monkey.spec.mjs";
import "./hostile.spec.mjs";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const shotsDir = path.resolve(opt("--shots") || path.join(repo, "target", "e2e-screenshots"));
const workers = Number(opt("--workers") || process.env.E2E_WORKERS || 2);
const failures = await runAll({ grep: opt("--grep"), shotsDir, workers });
process.exit(failures ? 1 : 0);
