/**
 * `bun scripts/readme.ts`: rewrite the README's options table from src/options.ts (the table
 * --help prints). test/readme.test.ts fails when the README's copy differs.
 */
import { optionsMarkdown } from "../src/usage.ts";

export const README = new URL("../README.md", import.meta.url).pathname;
export const BEGIN = "<!-- options table: generated from src/options.ts by `bun scripts/readme.ts`; do not edit -->";
export const END = "<!-- end of options table -->";

/** The README with the text between the markers replaced by the generated table. */
export function withOptionsTable(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${BEGIN} … ${END}`);
  return `${readme.slice(0, start + BEGIN.length)}\n${optionsMarkdown()}\n${readme.slice(end)}`;
}

if (import.meta.main) await Bun.write(README, withOptionsTable(await Bun.file(README).text()));
