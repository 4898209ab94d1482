/**
 * Lints the container build file: `npm run lint:docker [file...]` (default infra/Dockerfile).
 * dockerfile-utils' validator (every finding an error) plus the rules this project relies on:
 * pinned base images, a separate build stage, non-root runnable targets, lean apt layers.
 */
import { readFileSync } from 'node:fs';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate, ValidationSeverity } from 'dockerfile-utils';

const STRICT = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

interface Stage {
  name: string | null;
  parent: string;
  line: number;
  instructions: Instruction[];
}

function stagesOf(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const line = instruction.getRange().start.line + 1;
    if (instruction.getKeyword() === 'FROM') {
      const words = (instruction.getArgumentsContent() ?? '').split(/\s+/);
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        name: as >= 0 ? words[as + 1]! : null,
        parent: words[0] ?? '',
        line,
        instructions: [],
      });
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** The user a stage runs as: its last USER, else its parent stage's, else root. */
function userOf(stage: Stage, byName: Map<string, Stage>): string {
  const users = stage.instructions.filter((i) => i.getKeyword() === 'USER');
  if (users.length > 0) return (users.at(-1)!.getArgumentsContent() ?? '').trim();
  const parent = byName.get(stage.parent);
  return parent ? userOf(parent, byName) : 'root';
}

/** Problems as "line N: message"; empty when the file is fine. */
export function lintDockerfile(text: string): string[] {
  const problems = validate(text, STRICT).map(
    (d) => `line ${d.range.start.line + 1}: ${d.message}`,
  );
  const stages = stagesOf(text);
  const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name!, s]));
  if (stages.length < 2)
    problems.push('line 1: use a multi-stage build (compilers stay in the build stage)');
  for (const stage of stages) {
    if (
      !byName.has(stage.parent) &&
      !/:[\w.-]*\d[\w.-]*(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$/.test(stage.parent)
    )
      problems.push(
        `line ${stage.line}: pin the base image "${stage.parent}" to a version tag or digest`,
      );
    const runs = stage.instructions.some((i) => ['CMD', 'ENTRYPOINT'].includes(i.getKeyword()));
    if (runs && /^(root|0)(:.*)?$/.test(userOf(stage, byName)))
      problems.push(
        `line ${stage.line}: stage "${stage.name ?? stage.parent}" runs as root; add USER`,
      );
    for (const run of stage.instructions.filter((i) => i.getKeyword() === 'RUN')) {
      const cmd = run.getArgumentsContent() ?? '';
      const at = `line ${run.getRange().start.line + 1}`;
      if (/apt-get install/.test(cmd) && !/--no-install-recommends/.test(cmd))
        problems.push(`${at}: apt-get install without --no-install-recommends`);
      if (/apt-get install/.test(cmd) && !/rm -rf \/var\/lib\/apt\/lists/.test(cmd))
        problems.push(`${at}: remove /var/lib/apt/lists in the same RUN as apt-get install`);
    }
  }
  return problems;
}

function main(files: string[]): void {
  let failed = false;
  for (const file of files) {
    const problems = lintDockerfile(readFileSync(file, 'utf8'));
    for (const p of problems) console.error(`${file}: ${p}`);
    if (problems.length === 0) console.log(`${file}: no problems`);
    failed ||= problems.length > 0;
  }
  if (failed) {
    console.error('Fix the Dockerfile problems above and run `npm run lint:docker` again.');
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.length > 2 ? process.argv.slice(2) : ['infra/Dockerfile']);
}
