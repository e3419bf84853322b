import { matchProjectPattern } from '../../auth/scope.ts';
import type { RuleConfig } from '../notify-config.ts';

/** `*` inside a name matches any run of characters; everything else literally (case-sensitive: CI names are). */
export function globMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 's').test(name);
}

const anyGlob = (patterns: readonly string[], name: string | null) => patterns.length === 0 || (name !== null && patterns.some((p) => globMatches(p, name)));

/** What a rule is asked about: a pipeline (or a job of it) of a project. */
export interface MatchSubject {
  readonly backend: string;
  readonly project: { readonly nativeId: string; readonly fullName: string | null; readonly defaultBranch: string | null } | null;
  readonly branch: string | null;
  readonly pipelineName: string | null;
}

export function matchesBackend(rule: RuleConfig, backend: string): boolean {
  return rule.match.backends.length === 0 || rule.match.backends.includes(backend);
}

export function matchesProject(rule: RuleConfig, project: MatchSubject['project']): boolean {
  const { projects } = rule.match;
  if (projects.length === 0) return true;
  if (!project) return false;
  return projects.some((p) => matchProjectPattern(p, project.nativeId) || (project.fullName !== null && matchProjectPattern(p, project.fullName)));
}

/** `$default`: the project's default branch (unknown: no match); `*`: any branch, even none (a tag, a manual run). */
export function matchesBranch(rule: RuleConfig, branch: string | null, defaultBranch: string | null): boolean {
  return rule.match.branches.some((b) => b === '*' || (branch !== null && (b === '$default' ? branch === defaultBranch : globMatches(b, branch))));
}

export function matchesPipeline(rule: RuleConfig, subject: MatchSubject): boolean {
  return (
    matchesBackend(rule, subject.backend) &&
    matchesProject(rule, subject.project) &&
    matchesBranch(rule, subject.branch, subject.project?.defaultBranch ?? null) &&
    anyGlob(rule.match.pipelines, subject.pipelineName)
  );
}

export function matchesJobName(rule: RuleConfig, name: string): boolean {
  return anyGlob(rule.match.jobs, name);
}

/** Every label the rule names is asked for. */
export function matchesLabels(rule: RuleConfig, labels: readonly string[]): boolean {
  return rule.match.labels.every((l) => labels.includes(l));
}

/** True when the rule selects everything: warned about at start, shown in GraphQL. */
export function matchesEverything(rule: RuleConfig): boolean {
  const { backends, projects, branches, pipelines, jobs, labels } = rule.match;
  return (
    backends.length === 0 &&
    projects.every((p) => p === '**') &&
    branches.includes('*') &&
    pipelines.length === 0 && jobs.length === 0 && labels.length === 0
  );
}
