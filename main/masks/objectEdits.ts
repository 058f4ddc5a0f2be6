import { CaseLifecycleRepository } from '../../db/caseLifecycle.js';
import type { CaseRepository } from '../../db/repository.js';
import type { Mask } from '../contract/index.js';

/**
 * The case's objects as the analyst manages them — rename, recolour, delete with undo — kept in the case (masks
 * table), so the map, the object list, the legend and every export (GeoJSON, GeoPackage, PDF) follow. Generic over
 * object kinds: whatever is stored as a mask row.
 */
export class ObjectEditService {
  private readonly life: CaseLifecycleRepository;

  constructor(private readonly repo: CaseRepository, life?: CaseLifecycleRepository) {
    this.life = life ?? new CaseLifecycleRepository(repo.db);
  }

  /** label: the analyst's name (blank or null: back to the derived one); colour: #rrggbb */
  update(maskId: string, change: { label?: string | null | undefined; colour?: string | undefined }): Mask {
    this.liveCaseOf(maskId);
    const label = change.label === undefined ? undefined : change.label?.replace(/\s+/g, ' ').trim() || null;
    return plain(this.repo.updateMask(maskId, { ...(label !== undefined ? { label } : {}), ...(change.colour !== undefined ? { colour: change.colour } : {}) }));
  }

  /** gone from the map, the object list and exports; restore() brings it back as it was */
  delete(maskId: string): Mask {
    this.liveCaseOf(maskId);
    return plain(this.repo.deleteMask(maskId));
  }

  restore(maskId: string): Mask {
    this.liveCaseOf(maskId);
    return plain(this.repo.restoreMask(maskId));
  }

  /** objects of a deleted case are not changed (restore the case first) */
  private liveCaseOf(maskId: string): void {
    this.life.live(this.repo.sessionOfMask(maskId));
  }
}

function plain(m: Mask & { deleted?: boolean }): Mask {
  const { deleted: _deleted, ...mask } = m;
  return mask;
}
