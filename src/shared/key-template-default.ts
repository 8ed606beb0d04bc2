/**
 * The key template of a destination that names none (and of `--to` and the local archive): unset
 * variables drop out with their "/", so a dataset without a visit keeps "{proposal}/{dataset}/…",
 * and two visits of one proposal never share a folder. Jobs store the template they started with,
 * and a dataset that already has files on a destination keeps the template they were stored with.
 */
export const DEFAULT_KEY_TEMPLATE = '{proposal}/{visit}/{dataset}/{relpath}';
