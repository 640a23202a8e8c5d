import type { Request } from 'express';
import { assignmentKey, type AssignmentChangedMeanwhile, type AssignmentLabel } from './queries';
import { assignmentText } from './label';

/** The assignment form's values for an assignment as saved, with the key of what it shows (`seen_assignment`). */
export function assignmentValuesOf(label: AssignmentLabel) {
  return {
    assignment: label.kind,
    assignee_ids: label.users.map((u) => u.id),
    competence_id: label.competence?.id,
    seen_assignment: assignmentKey(label),
  };
}

/**
 * What a page shows after AssignmentChangedMeanwhile: the employee's choice
 * kept, the message naming what is saved now, and the current assignment as
 * the one seen, so that saving again overwrites it knowingly.
 */
export function assignmentConflict(req: Request, error: AssignmentChangedMeanwhile) {
  return {
    assignmentValues: { ...req.body, assignee_ids: [].concat(req.body.assignee_ids ?? []), seen_assignment: assignmentKey(error.current) },
    assignmentErrors: { seen_assignment: req.t('assignment.changedMeanwhile', { now: assignmentText(error.current, req.t) }) },
  };
}
