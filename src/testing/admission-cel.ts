import { evaluate } from '@marcbachmann/cel-js';

/**
 * Evaluates a ValidatingAdmissionPolicy's variables and validations against a pod the way the API server does
 * (variables in order, then every validation must be true), with a real CEL evaluator. Dev/test only.
 */
export function admits(policy: unknown, pod: unknown): { allowed: boolean; failed: string[] } {
  const spec =
    (
      policy as {
        spec?: { variables?: { name: string; expression: string }[]; validations?: { expression: string }[] };
      }
    ).spec ?? {};
  const variables: Record<string, unknown> = {};
  for (const v of spec.variables ?? [])
    variables[v.name] = evaluate(v.expression, { object: pod, variables });
  const failed = (spec.validations ?? [])
    .filter((v) => evaluate(v.expression, { object: pod, variables }) !== true)
    .map((v) => v.expression);
  return { allowed: failed.length === 0, failed };
}
