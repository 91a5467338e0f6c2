/**
 * Stripe's request encoding, read back: `application/x-www-form-urlencoded` with bracket notation
 * (`metadata[reference]=chk_1`, `payment_method_data[card][number]=4242...`, `expand[0]=latest_charge`
 * or `expand[]=latest_charge`), as the official SDK writes it. Values stay strings, as on the wire;
 * the routes coerce them. Arrays come back as arrays when every key at a level is an index or `[]`.
 */

export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

/** Splits `a[b][c]` into `['a','b','c']`; `a[]` into `['a','']`. */
function keyPath(key: string): string[] | undefined {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (match === null) return undefined;
  const rest = [...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((part) => part[1] ?? '');
  return [match[1] as string, ...rest];
}

/** Parses a form body into nested objects; malformed keys are ignored (Stripe would refuse them as unknown). */
export function parseStripeForm(raw: string): FormObject {
  const root: FormObject = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const path = keyPath(key);
    if (path === undefined || path.length > 6) continue;
    let node: FormObject = root;
    for (let index = 0; index < path.length - 1; index += 1) {
      const part = path[index] as string;
      const next = node[part];
      if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
        node = next;
      } else {
        const child: FormObject = {};
        node[part] = child;
        node = child;
      }
    }
    const last = path[path.length - 1] as string;
    node[last === '' ? String(Object.keys(node).length) : last] = value;
  }
  return toArrays(root) as FormObject;
}

/** `{ "0": "a", "1": "b" }` -> `["a","b"]`, recursively. */
function toArrays(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: FormObject = {};
  for (const key of keys) converted[key] = toArrays(value[key] as FormValue);
  if (keys.length > 0 && keys.every((key, index) => key === String(index))) return keys.map((key) => converted[key] as FormValue);
  return converted;
}
