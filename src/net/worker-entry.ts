/**
 * Where a worker thread's module is: the compiled .js beside the module starting it (dist/);
 * when that module runs from source (tsx, vitest), the build of the same file in dist/ (a
 * loader passed to a worker's execArgv does not reach it in every host, vitest's forks among
 * them); the .ts under tsx only when nothing is built.
 *
 * `from` is the starting module's import.meta.url, `dir` its folder from the repository root
 * (such as "src/gaps"), `name` the worker module's name without extension.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function workerEntry(from: string, dir: string, name: string): { url: URL; execArgv: string[] } {
  const sibling = new URL(`./${name}.js`, from);
  if (existsSync(fileURLToPath(sibling))) return { url: sibling, execArgv: [] };
  const up = dir
    .split("/")
    .map(() => "..")
    .join("/");
  const built = new URL(`${up}/dist/${dir}/${name}.js`, from);
  if (existsSync(fileURLToPath(built))) return { url: built, execArgv: [] };
  return { url: new URL(`./${name}.ts`, from), execArgv: ["--import", "tsx"] };
}
