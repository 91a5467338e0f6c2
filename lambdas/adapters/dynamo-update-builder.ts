/**
 * An UpdateItem's expression pieces with generated placeholders (`#nN`, `:vN`): SET (an undefined
 * value becomes REMOVE), list appends and ADD to a set, so a write names only what it changes.
 */
import { withoutUndefined } from './dynamo-support';

export class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private readonly adds: string[] = [];
  private count = 0;

  name(attribute: string): string {
    const placeholder = `#n${Object.keys(this.names).length}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  value(value: unknown): string {
    this.count += 1;
    const placeholder = `:v${this.count}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  set(attribute: string, value: unknown): this {
    if (value === undefined) this.removes.push(this.name(attribute));
    else this.sets.push(`${this.name(attribute)} = ${this.value(withoutUndefined(value))}`);
    return this;
  }

  /** Appends to a list attribute, creating it when absent. */
  appendToList(attribute: string, rows: readonly unknown[]): this {
    if (rows.length === 0) return this;
    const list = this.name(attribute);
    this.sets.push(`${list} = list_append(if_not_exists(${list}, ${this.value([])}), ${this.value(rows)})`);
    return this;
  }

  addToSet(attribute: string, member: string): this {
    this.adds.push(`${this.name(attribute)} ${this.value(new Set([member]))}`);
    return this;
  }

  expression(): string {
    return [
      this.sets.length > 0 ? `SET ${this.sets.join(', ')}` : '',
      this.removes.length > 0 ? `REMOVE ${this.removes.join(', ')}` : '',
      this.adds.length > 0 ? `ADD ${this.adds.join(', ')}` : '',
    ]
      .filter((part) => part !== '')
      .join(' ');
  }
}
