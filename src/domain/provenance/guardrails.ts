/**
 * Whether image-signature enforcement exists *and blocks* in each namespace of a cluster. Pure: the adapter
 * lists the raw objects (ValidatingAdmissionPolicies and their bindings, Kyverno policies, Sigstore
 * policy-controller ClusterImagePolicies, namespaces) and this module decides, defensively, from their JSON.
 * A policy that only warns or audits, or a policy without a binding, enforces nothing; partial enforcement is a
 * finding named per namespace; what could not be read is unknown, never "none".
 */

export type Engine = 'vap' | 'kyverno' | 'policy-controller';

/** Why a source of policies could not be read (a CRD that is not installed is not an error: nothing to enforce). */
export type SourceProblem = { engine: Engine | 'namespaces'; reason: 'forbidden' | 'error'; detail: string };

/** The raw objects of one cluster, as listed; any field may be missing or odd. */
export type GuardrailInputs = {
  cluster: string;
  environment: string;
  namespaces: readonly unknown[];
  vaps: readonly unknown[];
  vapBindings: readonly unknown[];
  kyvernoPolicies: readonly unknown[];
  clusterImagePolicies: readonly unknown[];
  /** Engines whose CRDs are absent (404 on the list). */
  notInstalled: readonly Engine[];
  problems: readonly SourceProblem[];
};

/** One policy that applies to a namespace, and whether it blocks there. */
export type Mechanism = { engine: Engine; name: string; mode: 'blocks' | 'audit-only'; detail: string };

export type NamespaceStatus = 'enforced' | 'audit-only' | 'none' | 'unknown';

export type NamespaceVerdict = { namespace: string; status: NamespaceStatus; mechanisms: Mechanism[] };

export type Finding = {
  severity: 'high' | 'medium' | 'info';
  engine: Engine | 'namespaces';
  /** The policy (or binding) the finding is about, when there is one. */
  name?: string;
  message: string;
  namespaces?: string[];
};

export type ClusterStatus = 'enforced' | 'partial' | 'audit-only' | 'none' | 'unknown';

export type ClusterGuardrails = {
  cluster: string;
  environment: string;
  status: ClusterStatus;
  namespaces: NamespaceVerdict[];
  findings: Finding[];
  notInstalled: Engine[];
  problems: SourceProblem[];
};

type Obj = Record<string, unknown>;
type Namespace = { name: string; labels: Record<string, string> };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const get = (v: unknown, ...path: string[]): unknown => {
  let cur = v;
  for (const p of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
};
const nameOf = (o: unknown): string => str(get(o, 'metadata', 'name')) ?? '(unnamed)';

function labelsOf(o: unknown): Record<string, string> {
  const raw = get(o, 'metadata', 'labels');
  const out: Record<string, string> = {};
  if (isObj(raw)) for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Kubernetes label-selector semantics; an absent or empty selector selects everything. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  if (selector === undefined || selector === null) return true;
  if (!isObj(selector)) return false;
  const ml = selector.matchLabels;
  if (ml !== undefined) {
    if (!isObj(ml)) return false;
    for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
  }
  for (const e of arr(selector.matchExpressions)) {
    const key = str(get(e, 'key'));
    const op = str(get(e, 'operator'));
    const values = arr(get(e, 'values')).filter((x): x is string => typeof x === 'string');
    if (key === undefined) return false;
    const has = Object.hasOwn(labels, key);
    const val = labels[key];
    if (op === 'In' && !(has && values.includes(val as string))) return false;
    if (op === 'NotIn' && has && values.includes(val as string)) return false;
    if (op === 'Exists' && !has) return false;
    if (op === 'DoesNotExist' && has) return false;
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist') return false;
  }
  return true;
}

/** Glob as Kyverno uses it in namespace lists: `*` any run, `?` one character, anchored. */
export function globMatches(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

function rulesCoverPodCreate(rules: unknown): boolean {
  return arr(rules).some((r) => {
    const resources = arr(get(r, 'resources'));
    const ops = arr(get(r, 'operations'));
    const groups = arr(get(r, 'apiGroups'));
    const pods = resources.includes('pods') || resources.includes('*');
    const core = groups.length === 0 || groups.includes('') || groups.includes('*');
    const create = ops.length === 0 || ops.includes('CREATE') || ops.includes('*');
    return pods && core && create;
  });
}

function vapLooksAtImages(vap: unknown): boolean {
  const exprs = [
    ...arr(get(vap, 'spec', 'validations')).map((v) => str(get(v, 'expression')) ?? ''),
    ...arr(get(vap, 'spec', 'variables')).map((v) => str(get(v, 'expression')) ?? ''),
  ];
  return exprs.some((e) => /\bimage\b|\.image\b|containers/.test(e));
}

type Applies = (ns: Namespace) => Mechanism | undefined;

function vapMechanisms(input: GuardrailInputs, findings: Finding[]): Applies[] {
  const out: Applies[] = [];
  const policies = new Map<string, unknown>();
  for (const vap of input.vaps) {
    if (!rulesCoverPodCreate(get(vap, 'spec', 'matchConstraints', 'resourceRules'))) continue;
    if (!vapLooksAtImages(vap)) continue;
    policies.set(nameOf(vap), vap);
  }
  const bound = new Set<string>();
  for (const b of input.vapBindings) {
    const policyName = str(get(b, 'spec', 'policyName'));
    if (policyName === undefined) continue;
    const vap = policies.get(policyName);
    if (vap === undefined) {
      if (!input.vaps.some((v) => nameOf(v) === policyName)) {
        findings.push({
          severity: 'medium',
          engine: 'vap',
          name: nameOf(b),
          message: `binding refers to policy ${policyName}, which does not exist: it enforces nothing`,
        });
      }
      continue;
    }
    bound.add(policyName);
    const actions = arr(get(b, 'spec', 'validationActions')).filter(
      (a): a is string => typeof a === 'string',
    );
    const blocks = actions.includes('Deny');
    if (!blocks) {
      findings.push({
        severity: 'high',
        engine: 'vap',
        name: `${policyName} (binding ${nameOf(b)})`,
        message: `binding uses validationActions [${actions.join(', ') || 'none'}]: it reports, it does not block (only Deny blocks)`,
      });
    }
    const policySelector = get(vap, 'spec', 'matchConstraints', 'namespaceSelector');
    const bindingSelector = get(b, 'spec', 'matchResources', 'namespaceSelector');
    const failOpen = str(get(vap, 'spec', 'failurePolicy')) === 'Ignore';
    out.push((ns) =>
      selectorMatches(policySelector, ns.labels) && selectorMatches(bindingSelector, ns.labels)
        ? {
            engine: 'vap',
            name: policyName,
            mode: blocks ? 'blocks' : 'audit-only',
            detail: `ValidatingAdmissionPolicy ${policyName} bound by ${nameOf(b)} (${actions.join(', ')})${failOpen ? ', fails open' : ''}`,
          }
        : undefined,
    );
  }
  for (const name of policies.keys()) {
    if (!bound.has(name)) {
      findings.push({
        severity: 'high',
        engine: 'vap',
        name,
        message: 'ValidatingAdmissionPolicy has no binding: it enforces nothing',
      });
    }
  }
  return out;
}

function kyvernoMode(policy: unknown, rule: unknown): 'blocks' | 'audit-only' {
  const ruleActions = arr(get(rule, 'verifyImages'))
    .map((v) => str(get(v, 'failureAction')))
    .filter((a): a is string => a !== undefined);
  const action =
    ruleActions[0] ??
    str(get(rule, 'validate', 'failureAction')) ??
    str(get(policy, 'spec', 'validationFailureAction'));
  return action !== undefined && action.toLowerCase() === 'enforce' ? 'blocks' : 'audit-only';
}

function kyvernoFilterMatches(filter: unknown, ns: Namespace): boolean {
  const blocks = [...arr(get(filter, 'any')), ...arr(get(filter, 'all'))];
  const single = get(filter, 'resources');
  const candidates = single !== undefined ? [{ resources: single }, ...blocks] : blocks;
  if (candidates.length === 0) return false;
  return candidates.some((c) => {
    const res = get(c, 'resources');
    const kinds = arr(get(res, 'kinds'));
    if (kinds.length > 0 && !kinds.some((k) => k === 'Pod' || k === '*' || k === 'v1/Pod')) return false;
    const names = arr(get(res, 'namespaces')).filter((n): n is string => typeof n === 'string');
    if (names.length > 0 && !names.some((p) => globMatches(p, ns.name))) return false;
    return selectorMatches(get(res, 'namespaceSelector'), ns.labels);
  });
}

function kyvernoMechanisms(input: GuardrailInputs, findings: Finding[]): Applies[] {
  const out: Applies[] = [];
  for (const p of input.kyvernoPolicies) {
    const kind = str(get(p, 'kind')) ?? 'ClusterPolicy';
    const policyNs = str(get(p, 'metadata', 'namespace'));
    const rules = arr(get(p, 'spec', 'rules')).filter((r) => arr(get(r, 'verifyImages')).length > 0);
    if (rules.length === 0) continue;
    const label = kind === 'Policy' && policyNs ? `${policyNs}/${nameOf(p)}` : nameOf(p);
    const failOpen = str(get(p, 'spec', 'failurePolicy')) === 'Ignore';
    for (const rule of rules) {
      const mode = kyvernoMode(p, rule);
      const ruleName = str(get(rule, 'name')) ?? 'rule';
      if (mode === 'audit-only') {
        findings.push({
          severity: 'high',
          engine: 'kyverno',
          name: `${label} / ${ruleName}`,
          message: 'verifyImages rule runs in Audit mode: unsigned images are reported, not blocked',
        });
      }
      out.push((ns) => {
        if (kind === 'Policy' && policyNs !== ns.name) return undefined;
        const match = get(rule, 'match');
        if (match !== undefined && !kyvernoFilterMatches(match, ns)) return undefined;
        const exclude = get(rule, 'exclude');
        if (exclude !== undefined && kyvernoFilterMatches(exclude, ns)) return undefined;
        return {
          engine: 'kyverno',
          name: `${label} / ${ruleName}`,
          mode,
          detail: `Kyverno ${kind} ${label} rule ${ruleName} (${mode === 'blocks' ? 'Enforce' : 'Audit'})${failOpen ? ', fails open' : ''}`,
        };
      });
    }
  }
  return out;
}

/** policy-controller's default webhook only sees namespaces labelled `policy.sigstore.dev/include: "true"`. */
export const POLICY_CONTROLLER_LABEL = 'policy.sigstore.dev/include';

function policyControllerMechanisms(
  input: GuardrailInputs,
  findings: Finding[],
  namespaces: Namespace[],
): Applies[] {
  const out: Applies[] = [];
  if (input.clusterImagePolicies.length === 0) return out;
  for (const cip of input.clusterImagePolicies) {
    const mode =
      (str(get(cip, 'spec', 'mode')) ?? 'enforce').toLowerCase() === 'warn' ? 'audit-only' : 'blocks';
    if (mode === 'audit-only') {
      findings.push({
        severity: 'high',
        engine: 'policy-controller',
        name: nameOf(cip),
        message: 'ClusterImagePolicy is in warn mode: it does not block',
      });
    }
    out.push((ns) =>
      ns.labels[POLICY_CONTROLLER_LABEL] === 'true'
        ? {
            engine: 'policy-controller',
            name: nameOf(cip),
            mode,
            detail: `Sigstore ClusterImagePolicy ${nameOf(cip)} (${mode === 'blocks' ? 'enforce' : 'warn'}), namespace opted in`,
          }
        : undefined,
    );
  }
  const optedOut = namespaces.filter((n) => n.labels[POLICY_CONTROLLER_LABEL] !== 'true').map((n) => n.name);
  if (optedOut.length > 0) {
    findings.push({
      severity: 'medium',
      engine: 'policy-controller',
      message: `ClusterImagePolicies exist, but ${optedOut.length} namespace(s) lack the ${POLICY_CONTROLLER_LABEL}=true label, so policy-controller never sees their pods`,
      namespaces: optedOut,
    });
  }
  return out;
}

function parseNamespaces(raw: readonly unknown[]): Namespace[] {
  return raw
    .map((n) => ({ name: str(get(n, 'metadata', 'name')) ?? '', labels: labelsOf(n) }))
    .filter((n) => n.name !== '')
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Evaluates one cluster's enforcement per namespace. */
export function evaluateGuardrails(input: GuardrailInputs): ClusterGuardrails {
  const findings: Finding[] = [];
  const namespaces = parseNamespaces(input.namespaces);
  const nsProblem = input.problems.find((p) => p.engine === 'namespaces');
  const appliers = [
    ...vapMechanisms(input, findings),
    ...kyvernoMechanisms(input, findings),
    ...policyControllerMechanisms(input, findings, namespaces),
  ];
  const unreadable = input.problems.filter((p) => p.engine !== 'namespaces');
  const verdicts: NamespaceVerdict[] = namespaces.map((ns) => {
    const mechanisms = appliers.map((a) => a(ns)).filter((m): m is Mechanism => m !== undefined);
    let status: NamespaceStatus = mechanisms.some((m) => m.mode === 'blocks')
      ? 'enforced'
      : mechanisms.length > 0
        ? 'audit-only'
        : 'none';
    if (status !== 'enforced' && unreadable.length > 0) status = 'unknown';
    return { namespace: ns.name, status, mechanisms };
  });
  const count = (s: NamespaceStatus) => verdicts.filter((v) => v.status === s).length;
  let status: ClusterStatus;
  if (nsProblem !== undefined) status = 'unknown';
  else if (verdicts.length === 0) status = unreadable.length > 0 ? 'unknown' : 'none';
  else if (count('enforced') === verdicts.length) status = 'enforced';
  else if (count('enforced') > 0) status = 'partial';
  else if (count('unknown') > 0) status = 'unknown';
  else if (count('audit-only') > 0) status = 'audit-only';
  else status = 'none';

  const unprotected = verdicts.filter((v) => v.status === 'none' || v.status === 'audit-only');
  if (count('enforced') > 0 && unprotected.length > 0) {
    findings.push({
      severity: 'high',
      engine: 'namespaces',
      message: `partial enforcement: ${unprotected.length} namespace(s) admit unsigned images`,
      namespaces: unprotected.map((v) => v.namespace),
    });
  }
  for (const p of input.problems) {
    findings.push({
      severity: 'medium',
      engine: p.engine,
      message: `could not read ${p.engine === 'namespaces' ? 'namespaces' : `${engineLabel(p.engine)} policies`} (${p.reason}: ${p.detail}); enforcement there is unknown`,
    });
  }
  const rank = { high: 0, medium: 1, info: 2 } as const;
  findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
  return {
    cluster: input.cluster,
    environment: input.environment,
    status,
    namespaces: verdicts,
    findings,
    notInstalled: [...input.notInstalled],
    problems: [...input.problems],
  };
}

export function engineLabel(e: Engine | 'namespaces'): string {
  return e === 'vap'
    ? 'ValidatingAdmissionPolicy'
    : e === 'kyverno'
      ? 'Kyverno'
      : e === 'policy-controller'
        ? 'Sigstore policy-controller'
        : 'Coverage';
}

/** The fleet-wide answer: one entry per cluster asked, plus clusters that could not be asked at all. */
export type GuardrailsReport = {
  clusters: ClusterGuardrails[];
  failed: { cluster: string; environment: string; error: string }[];
  completeness: 'complete' | 'partial' | 'unknown';
};

export function guardrailsReport(
  clusters: ClusterGuardrails[],
  failed: GuardrailsReport['failed'],
): GuardrailsReport {
  const unknown = failed.length + clusters.filter((c) => c.status === 'unknown').length;
  const total = clusters.length + failed.length;
  // Nothing asked is nothing known: never an all-clear for an empty fleet.
  const completeness = total === 0 || unknown === total ? 'unknown' : unknown === 0 ? 'complete' : 'partial';
  return { clusters, failed, completeness };
}
