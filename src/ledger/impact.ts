/**
 * The public view of what a neighbourhood did (docs/impact.md): which figures may be shown.
 *
 * A figure about fewer than `impact_people_min` people is not shown: a group (a month, an
 * activity category, the whole period) whose figures involve 1 to 9 people is hidden as a whole
 * (`small_group`). Hiding one group is not enough when the total is shown, since the total minus
 * the groups shown gives it back; so while the hidden groups of a dimension together involve
 * fewer than `impact_people_min` people, the smallest group still shown (with anyone in it) is
 * hidden too (`complement`), and when none is left the total is hidden. A group about nobody
 * (all zero) tells nothing about anyone and is shown.
 */

/** Fewest people a shown figure may be about. */
export const impact_people_min = 10;

/** Why a group's figures are not shown. */
export type HiddenReason = 'small_group' | 'complement';

/** A group's figures and how many people they involve. */
export interface Counted<T> {
  people: number;
  figures: T;
}

/** A group as shown: its figures, or why they are hidden. */
export type Shown<T> = { hidden: false; figures: T } | { hidden: true; reason: HiddenReason };

/** A dimension (months, categories) and its total, as shown. */
export interface ShownDimension<T> {
  groups: Array<Shown<T>>;
  total: Shown<T>;
}

/**
 * Which groups of one dimension, and its total, may be shown. The groups' people may overlap
 * (one volunteer in two months), so their sum is an upper bound of the people hidden together:
 * counting with it hides less than a count of distinct people would, never a group that is small.
 */
export function suppressSmallGroups<T>(groups: Array<Counted<T>>, total: Counted<T>, people_min = impact_people_min): ShownDimension<T> {
  const small = (g: Counted<T>) => g.people > 0 && g.people < people_min;
  const reasons: Array<HiddenReason | undefined> = groups.map((g) => (small(g) ? 'small_group' : undefined));
  const total_hidden = small(total);
  let hidden_people = groups.reduce((sum, g, i) => sum + (reasons[i] === undefined ? 0 : g.people), 0);
  let total_reason: HiddenReason | undefined = total_hidden ? 'small_group' : undefined;
  while (total_reason === undefined && hidden_people > 0 && hidden_people < people_min) {
    const next = smallestShown(groups, reasons);
    if (next === undefined) {
      total_reason = 'complement';
      break;
    }
    reasons[next] = 'complement';
    hidden_people += groups[next]!.people;
  }
  const show = (g: Counted<T>, reason: HiddenReason | undefined): Shown<T> =>
    (reason === undefined ? { hidden: false, figures: g.figures } : { hidden: true, reason });
  return { groups: groups.map((g, i) => show(g, reasons[i])), total: show(total, total_reason) };
}

/** The index of the shown group with the fewest people (but someone), if any. */
function smallestShown<T>(groups: Array<Counted<T>>, reasons: Array<HiddenReason | undefined>): number | undefined {
  let best: number | undefined;
  groups.forEach((g, i) => {
    if (reasons[i] !== undefined || g.people === 0) return;
    if (best === undefined || g.people < groups[best]!.people) best = i;
  });
  return best;
}
