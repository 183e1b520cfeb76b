/** The Debian packages the full bench drives (wrk, nginx): found, or installed with apt-get. */

export function installed(binary: string): boolean {
  return Bun.which(binary, { PATH: `${process.env.PATH}:/usr/sbin:/usr/bin` }) !== null;
}

/**
 * Install the Debian packages whose binary is missing; with `install` false, only report
 * which are missing (the smoke run never installs anything).
 */
export async function ensurePackages(packages: Record<string, string>, install: boolean): Promise<string[]> {
  const missing = Object.entries(packages)
    .filter(([binary]) => !installed(binary))
    .map(([, pkg]) => pkg);
  if (missing.length === 0 || !install) return missing;
  console.error(`bench: installing ${missing.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const cmd of [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", ...missing],
  ]) {
    const proc = Bun.spawn(cmd, { env, stdout: "ignore", stderr: "inherit" });
    if ((await proc.exited) !== 0) throw new Error(`${cmd.join(" ")} failed`);
  }
  return Object.entries(packages)
    .filter(([binary]) => !installed(binary))
    .map(([, pkg]) => pkg);
}
