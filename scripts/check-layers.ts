/**
 * Checks the shape docs/ARCHITECTURE.md describes, from the imports in src/:
 * - the engine (src/core) never imports commands, renderers or start-up code,
 *   and renderers (src/ui) never import commands;
 * - folders do not import each other in a cycle (counting type imports: a
 *   cycle of types is a cycle of ideas);
 * - files do not import each other in a cycle at run time.
 * Prints one line per problem and exits 1 when there is any. Part of `npm run lint`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

const root = resolve(import.meta.dirname, '..');
// Every source file under src/, read from the disk (CI tests a copy without .git).
const files = (readdirSync(resolve(root, 'src'), { recursive: true }) as string[])
  .map((file) => `src/${file.split(sep).join('/')}`)
  .filter((file) => /\.c?ts$/.test(file) && !file.endsWith('.d.ts'))
  .sort();

/** The unit the layering rules talk about: src/core/<folder>, or src/<folder>. */
function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts[1] === 'core') return parts.length > 3 ? `core/${parts[2]}` : 'core';
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.ts$/, '');
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

const edges: Edge[] = [];
for (const file of files) {
  const text = readFileSync(resolve(root, file), 'utf8');
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[2] ?? match[3]!;
    const target = relative(root, resolve(dirname(resolve(root, file)), spec));
    if (!target.startsWith('src/')) continue;
    edges.push({ from: file, to: target, typeOnly: match[1] !== undefined });
  }
}

const problems: string[] = [];

// 1. Upward imports.
const forbidden: [RegExp, RegExp, string][] = [
  [/^src\/core\//, /^src\/(commands|ui|sea)\/|^src\/cli\.ts$/, 'the engine imports'],
  [/^src\/ui\//, /^src\/commands\//, 'a renderer imports'],
];
for (const edge of edges) {
  for (const [from, to, what] of forbidden) {
    if (from.test(edge.from) && to.test(edge.to)) problems.push(`${what} ${edge.to}: ${edge.from}`);
  }
}

/** Strongly connected components of size > 1 (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

function graphOf(selected: Edge[], key: (file: string) => string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const edge of selected) {
    const [from, to] = [key(edge.from), key(edge.to)];
    if (from === to) continue;
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  }
  return graph;
}

// 2. Folder cycles (any import), with the imports that close them.
const coreEdges = edges.filter(
  (e) => e.from.startsWith('src/core/') && e.to.startsWith('src/core/'),
);
for (const component of cycles(graphOf(coreEdges, folderOf))) {
  const inside = new Set(component);
  const examples = coreEdges
    .filter(
      (e) =>
        inside.has(folderOf(e.from)) &&
        inside.has(folderOf(e.to)) &&
        folderOf(e.from) !== folderOf(e.to),
    )
    .map((e) => `${e.from} -> ${e.to}`);
  problems.push(
    `folders import each other in a cycle: ${component.join(', ')} (${examples.join('; ')})`,
  );
}

// 3. File cycles at run time.
for (const component of cycles(
  graphOf(
    edges.filter((e) => !e.typeOnly),
    (file) => file,
  ),
)) {
  problems.push(`files import each other in a cycle: ${component.join(', ')}`);
}

for (const problem of problems) console.error(`check-layers: ${problem}`);
if (problems.length > 0) process.exit(1);
console.log(
  `check-layers: ${files.length} files, ${edges.length} imports, no upward imports, no cycles`,
);
