import { describe, expect, it } from 'vitest';
import {
  evaluateGuardrails,
  type GuardrailInputs,
  globMatches,
  guardrailsReport,
  selectorMatches,
} from '../../src/domain/provenance/guardrails.ts';

const ns = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });

const podRules = {
  resourceRules: [
    { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] },
  ],
};
const vap = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name },
  spec: {
    matchConstraints: podRules,
    validations: [{ expression: "object.spec.containers.all(c, c.image.contains('@sha256:'))" }],
    ...extra,
  },
});
const binding = (name: string, policyName: string, actions: string[], selector?: unknown) => ({
  metadata: { name },
  spec: {
    policyName,
    validationActions: actions,
    ...(selector ? { matchResources: { namespaceSelector: selector } } : {}),
  },
});
const kyverno = (
  name: string,
  action: string | undefined,
  match?: unknown,
  kind = 'ClusterPolicy',
  namespace?: string,
) => ({
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: {
    ...(action ? { validationFailureAction: action } : {}),
    rules: [
      {
        name: 'check-signature',
        match: match ?? { any: [{ resources: { kinds: ['Pod'] } }] },
        verifyImages: [{ imageReferences: ['registry.example.com/*'] }],
      },
    ],
  },
});
const cip = (name: string, mode?: string) => ({
  metadata: { name },
  spec: { images: [{ glob: '**' }], ...(mode ? { mode } : {}) },
});

function input(over: Partial<GuardrailInputs>): GuardrailInputs {
  return {
    cluster: 'prod-eu',
    environment: 'prod',
    namespaces: [ns('payments'), ns('web')],
    vaps: [],
    vapBindings: [],
    kyvernoPolicies: [],
    clusterImagePolicies: [],
    notInstalled: [],
    problems: [],
    ...over,
  };
}

const statusOf = (r: ReturnType<typeof evaluateGuardrails>) =>
  Object.fromEntries(r.namespaces.map((n) => [n.namespace, n.status]));

describe('guardrails: ValidatingAdmissionPolicy', () => {
  it('a policy without a binding enforces nothing and says so', () => {
    const r = evaluateGuardrails(input({ vaps: [vap('require-digest')] }));
    expect(r.status).toBe('none');
    expect(statusOf(r)).toEqual({ payments: 'none', web: 'none' });
    expect(r.findings.map((f) => f.message)).toContain(
      'ValidatingAdmissionPolicy has no binding: it enforces nothing',
    );
  });

  it('a Deny binding enforces in every namespace it selects', () => {
    const r = evaluateGuardrails(
      input({ vaps: [vap('require-digest')], vapBindings: [binding('b', 'require-digest', ['Deny'])] }),
    );
    expect(r.status).toBe('enforced');
    expect(r.findings).toEqual([]);
  });

  it.each([[['Warn']], [['Audit']], [['Warn', 'Audit']]])('a %j binding does not block', (actions) => {
    const r = evaluateGuardrails(input({ vaps: [vap('p')], vapBindings: [binding('b', 'p', actions)] }));
    expect(r.status).toBe('audit-only');
    expect(statusOf(r).payments).toBe('audit-only');
    expect(r.findings[0]?.message).toMatch(/does not block/);
  });

  it('a binding whose namespace selector leaves namespaces out is partial enforcement, named per namespace', () => {
    const r = evaluateGuardrails(
      input({
        namespaces: [ns('payments', { tier: 'prod' }), ns('web')],
        vaps: [vap('p')],
        vapBindings: [binding('b', 'p', ['Deny'], { matchLabels: { tier: 'prod' } })],
      }),
    );
    expect(r.status).toBe('partial');
    expect(statusOf(r)).toEqual({ payments: 'enforced', web: 'none' });
    const partial = r.findings.find((f) => f.message.startsWith('partial enforcement'));
    expect(partial?.namespaces).toEqual(['web']);
  });

  it('ignores policies that do not look at pod images', () => {
    const unrelated = {
      metadata: { name: 'replicas' },
      spec: {
        matchConstraints: {
          resourceRules: [{ apiGroups: ['apps'], operations: ['CREATE'], resources: ['deployments'] }],
        },
        validations: [{ expression: 'object.spec.replicas <= 5' }],
      },
    };
    const r = evaluateGuardrails(
      input({ vaps: [unrelated], vapBindings: [binding('b', 'replicas', ['Deny'])] }),
    );
    expect(r.status).toBe('none');
  });

  it('a binding to a policy that does not exist is a finding', () => {
    const r = evaluateGuardrails(input({ vapBindings: [binding('orphan', 'gone', ['Deny'])] }));
    expect(r.findings.some((f) => f.name === 'orphan' && /does not exist/.test(f.message))).toBe(true);
  });
});

describe('guardrails: Kyverno', () => {
  it.each([
    ['Enforce', 'enforced'],
    ['enforce', 'enforced'],
    ['Audit', 'audit-only'],
    [undefined, 'audit-only'],
  ])('validationFailureAction %s → %s', (action, expected) => {
    const r = evaluateGuardrails(input({ kyvernoPolicies: [kyverno('verify', action)] }));
    expect(statusOf(r).payments).toBe(expected);
  });

  it('a rule-level failureAction overrides the policy-level one', () => {
    const p = kyverno('verify', 'Audit');
    (p.spec.rules[0]?.verifyImages[0] as Record<string, unknown>).failureAction = 'Enforce';
    expect(statusOf(evaluateGuardrails(input({ kyvernoPolicies: [p] }))).payments).toBe('enforced');
  });

  it('a namespaced Policy protects only its namespace', () => {
    const r = evaluateGuardrails(
      input({ kyvernoPolicies: [kyverno('verify', 'Enforce', undefined, 'Policy', 'payments')] }),
    );
    expect(statusOf(r)).toEqual({ payments: 'enforced', web: 'none' });
    expect(r.status).toBe('partial');
  });

  it('honours match namespaces (globs) and exclude', () => {
    const p = kyverno('verify', 'Enforce', {
      any: [{ resources: { kinds: ['Pod'], namespaces: ['pay*'] } }],
    });
    expect(statusOf(evaluateGuardrails(input({ kyvernoPolicies: [p] })))).toEqual({
      payments: 'enforced',
      web: 'none',
    });
    const q = kyverno('verify', 'Enforce');
    (q.spec.rules[0] as Record<string, unknown>).exclude = { any: [{ resources: { namespaces: ['web'] } }] };
    expect(statusOf(evaluateGuardrails(input({ kyvernoPolicies: [q] })))).toEqual({
      payments: 'enforced',
      web: 'none',
    });
  });

  it('a policy without verifyImages rules is not signature enforcement', () => {
    const p = kyverno('other', 'Enforce');
    (p.spec.rules[0] as Record<string, unknown>).verifyImages = [];
    expect(evaluateGuardrails(input({ kyvernoPolicies: [p] })).status).toBe('none');
  });
});

describe('guardrails: Sigstore policy-controller', () => {
  it('enforces only in namespaces with the opt-in label', () => {
    const r = evaluateGuardrails(
      input({
        namespaces: [ns('payments', { 'policy.sigstore.dev/include': 'true' }), ns('web')],
        clusterImagePolicies: [cip('signed')],
      }),
    );
    expect(statusOf(r)).toEqual({ payments: 'enforced', web: 'none' });
    expect(r.findings.find((f) => f.engine === 'policy-controller')?.namespaces).toEqual(['web']);
  });

  it('a label value other than "true" does not opt in', () => {
    const r = evaluateGuardrails(
      input({
        namespaces: [ns('payments', { 'policy.sigstore.dev/include': 'yes' })],
        clusterImagePolicies: [cip('signed')],
      }),
    );
    expect(statusOf(r).payments).toBe('none');
  });

  it('warn mode does not block', () => {
    const r = evaluateGuardrails(
      input({
        namespaces: [ns('payments', { 'policy.sigstore.dev/include': 'true' })],
        clusterImagePolicies: [cip('signed', 'warn')],
      }),
    );
    expect(statusOf(r).payments).toBe('audit-only');
  });
});

describe('guardrails: unknown is unknown', () => {
  it('a forbidden policy source turns unprotected namespaces into unknown, never none', () => {
    const r = evaluateGuardrails(
      input({ problems: [{ engine: 'kyverno', reason: 'forbidden', detail: '403' }] }),
    );
    expect(r.status).toBe('unknown');
    expect(statusOf(r)).toEqual({ payments: 'unknown', web: 'unknown' });
  });

  it('namespaces that could not be listed make the cluster unknown', () => {
    const r = evaluateGuardrails(
      input({ namespaces: [], problems: [{ engine: 'namespaces', reason: 'forbidden', detail: '403' }] }),
    );
    expect(r.status).toBe('unknown');
  });

  it('odd objects never crash', () => {
    const r = evaluateGuardrails(
      input({
        vaps: [null, 3, { spec: 'x' }],
        vapBindings: [{}, { spec: { policyName: 7 } }],
        kyvernoPolicies: [{ spec: { rules: 'no' } }],
        clusterImagePolicies: [],
      }),
    );
    expect(r.status).toBe('none');
  });

  it('fleet completeness counts clusters that failed or are unknown', () => {
    const ok = evaluateGuardrails(input({}));
    const unknown = evaluateGuardrails(
      input({ problems: [{ engine: 'vap', reason: 'error', detail: 'x' }] }),
    );
    expect(guardrailsReport([ok], []).completeness).toBe('complete');
    expect(guardrailsReport([ok, unknown], []).completeness).toBe('partial');
    expect(guardrailsReport([], [{ cluster: 'a', environment: 'prod', error: 'down' }]).completeness).toBe(
      'unknown',
    );
  });
});

describe('selectors', () => {
  it.each([
    [undefined, {}, true],
    [{}, { a: '1' }, true],
    [{ matchLabels: { a: '1' } }, { a: '1' }, true],
    [{ matchLabels: { a: '1' } }, { a: '2' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, { a: '1' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { a: '' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: '' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, { a: '' }, false],
  ])('%j on %j → %s', (sel, labels, expected) => {
    expect(selectorMatches(sel, labels as Record<string, string>)).toBe(expected);
  });

  it.each([
    ['pay*', 'payments', true],
    ['pay*', 'xpayments', false],
    ['p?y', 'pay', true],
    ['a.b', 'axb', false],
  ])('glob %s on %s → %s', (p, v, e) => expect(globMatches(p, v)).toBe(e));
});

describe('/scope guardrails command', () => {
  it('parses an optional cluster name and refuses what is not one', async () => {
    const { parseCommand } = await import('../../src/domain/command.ts');
    expect(parseCommand('guardrails')).toEqual({ name: 'guardrails' });
    expect(parseCommand('guardrails prod-eu')).toEqual({ name: 'guardrails', cluster: 'prod-eu' });
    expect(() => parseCommand('guardrails Prod/EU')).toThrow(/not a cluster name/);
    expect(() => parseCommand('guardrails a b')).toThrow(/at most 1 argument/);
  });

  it('names the configured clusters when asked about one that is not', async () => {
    const { runCommand } = await import('../../src/jobs/run-command.ts');
    let asked = 0;
    const ports = {
      status: async () => {
        throw new Error('unused');
      },
      inventory: {} as never,
      clusterNames: () => ['prod-eu', 'dev-1'],
      guardrails: async () => {
        asked += 1;
        return guardrailsReport([], []);
      },
    };
    await expect(runCommand({ name: 'guardrails', cluster: 'prod-ue' }, ports)).rejects.toThrow(
      /not a configured cluster/,
    );
    expect(asked).toBe(0);
    await runCommand({ name: 'guardrails', cluster: 'dev-1' }, ports);
    expect(asked).toBe(1);
  });
});
