import type {
  ActionKind,
  HeldTarget,
  Holding,
  StepRecord,
  StepTarget,
} from '../../domain/actions/contract.ts';
import { heldTargets, holdersOf } from '../../domain/actions/holdings.ts';
import type { ActionRequest } from '../../domain/actions/request.ts';
import { freezePart } from '../../domain/provenance/quarantine-freeze.ts';
import type { ActionStore } from '../../store/actions/action-store.ts';

/**
 * Reads what the active requests of a kind hold, for an inverse that must not undo another request's change.
 * The active set is read fresh on every call (a request may become active or be undone meanwhile); a request's
 * plan and records are read once per reader (one execution) — they no longer change once it is active,
 * except by a retry, which only adds held steps.
 */
export class HoldingsReader {
  readonly #store: ActionStore;
  readonly #cache = new Map<
    string,
    Promise<{ r: ActionRequest; records: Map<string, StepRecord> } | undefined>
  >();

  constructor(store: ActionStore) {
    this.#store = store;
  }

  /** Everything the active, not undone requests of `kind` hold, oldest request first. */
  async held(kind: ActionKind): Promise<HeldTarget[]> {
    const ids = await this.#store.activeIds(kind);
    const out: HeldTarget[] = [];
    for (const id of ids) {
      const loaded = await this.#load(id);
      if (loaded) out.push(...heldTargets(loaded.r, loaded.records, kind));
    }
    // A Quarantine + freeze holds the workloads it froze too, under the keys its Freeze part used on the objects.
    if (kind === 'freeze') {
      for (const id of await this.#store.activeIds('quarantine')) {
        const loaded = await this.#load(id);
        if (!loaded) continue;
        const part = freezePart(loaded.r.plan, [...loaded.records.values()]);
        if (part.steps.length === 0) continue;
        const frozen = { ...loaded.r, plan: { ...loaded.r.plan, steps: part.steps } };
        out.push(...heldTargets(frozen, new Map(part.records.map((x) => [x.key, x])), 'freeze'));
      }
    }
    return out;
  }

  /** The holders of one target among the active requests of `kind`, oldest first. */
  async holders(kind: ActionKind, target: StepTarget): Promise<Holding[]> {
    return holdersOf(await this.held(kind), target);
  }

  #load(id: string) {
    let p = this.#cache.get(id);
    if (!p) {
      p = (async () => {
        const r = await this.#store.getRequest(id);
        return r ? { r, records: await this.#store.steps(id) } : undefined;
      })();
      this.#cache.set(id, p);
    }
    return p;
  }
}
