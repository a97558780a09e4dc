import { CfnElement, CfnMapping, CfnParameter, CfnResource, Stack } from 'aws-cdk-lib';

/**
 * Reading a resource the way CloudFormation will see it: rendered properties (escape-hatch overrides
 * included), resolved through its stack, with `Ref`/`Fn::GetAtt` followed to resources in the same stack.
 */

/** A resource as it appears in the synthesized template, intrinsics left in place. */
export interface RenderedResource {
  readonly type: string;
  readonly properties: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

/** Stands for a part of a string that only CloudFormation knows (a pseudo parameter, an attribute, ...). */
export const UNKNOWN = '\u0000';

const MAX_CANDIDATES = 32;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Renders `node` through its stack. `_toCloudFormation` is what the stack itself uses to write the template, so
 * `addPropertyOverride`/`addOverride` escape hatches are seen; without it (or if rendering fails) the L1's own
 * properties are used. `undefined` when neither resolves (a cross-stack reference checked before synthesis
 * prepared it): rules then skip the resource rather than guess.
 */
export function render(node: CfnResource): RenderedResource | undefined {
  const stack = Stack.of(node);
  const toCloudFormation = (node as unknown as { _toCloudFormation?: () => unknown })._toCloudFormation;
  if (typeof toCloudFormation === 'function') {
    try {
      const template = stack.resolve(toCloudFormation.call(node)) as { Resources?: Record<string, Record<string, unknown>> };
      const resource = Object.values(template.Resources ?? {})[0];
      if (resource) {
        return {
          type: String(resource.Type),
          properties: isObject(resource.Properties) ? resource.Properties : {},
          metadata: isObject(resource.Metadata) ? resource.Metadata : {},
        };
      }
    } catch {
      // an unrenderable resource (e.g. a missing required property) is read from its L1 fields below.
    }
  }
  const properties = safeResolve(node, (node as unknown as { cfnProperties?: unknown }).cfnProperties);
  if (!isObject(properties)) return undefined;
  return { type: node.cfnResourceType, properties, metadata: {} };
}

/** `Stack.of(node).resolve(value)`, or `undefined` when the value cannot be resolved outside synthesis. */
export function safeResolve(node: CfnElement, value: unknown): unknown {
  try {
    return Stack.of(node).resolve(value);
  } catch {
    return undefined;
  }
}

// logical id -> element, per stack; entries are re-checked on use, so a stale index only costs a rebuild.
const elementIndex = new WeakMap<Stack, Map<string, CfnElement>>();

/** The element of `node`'s stack whose logical id is `logicalId`, if any. */
export function findElement(node: CfnElement, logicalId: string): CfnElement | undefined {
  const stack = Stack.of(node);
  const cached = elementIndex.get(stack)?.get(logicalId);
  if (cached && stack.resolve(cached.logicalId) === logicalId) return cached;
  const index = new Map<string, CfnElement>();
  for (const c of stack.node.findAll()) {
    if (CfnElement.isCfnElement(c) && Stack.of(c) === stack) index.set(stack.resolve(c.logicalId), c);
  }
  elementIndex.set(stack, index);
  return index.get(logicalId);
}

/** Every resource of CloudFormation type `type` in `node`'s stack. */
export function resourcesOfType(node: CfnElement, type: string): CfnResource[] {
  const stack = Stack.of(node);
  return stack.node.findAll().filter((c): c is CfnResource =>
    CfnResource.isCfnResource(c) && Stack.of(c) === stack && c.cfnResourceType === type);
}

/** The logical id a `Ref` or `Fn::GetAtt` points at (pseudo parameters excluded). */
export function referenceTarget(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const ref = value.Ref;
  if (typeof ref === 'string' && !ref.startsWith('AWS::')) return ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** The resource a `Ref`/`Fn::GetAtt` value points at, when it is in the same stack. */
export function referencedResource(node: CfnElement, value: unknown): CfnResource | undefined {
  const target = referenceTarget(value);
  if (!target) return undefined;
  const element = findElement(node, target);
  return element && CfnResource.isCfnResource(element) ? element : undefined;
}

/** Every logical id referenced anywhere inside `value` (`Ref`, `Fn::GetAtt`, `${X}` in `Fn::Sub`). */
export function referencedIds(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => referencedIds(v, into));
  } else if (isObject(value)) {
    const target = referenceTarget(value);
    if (target) into.add(target);
    const sub = value['Fn::Sub'];
    const template = Array.isArray(sub) ? sub[0] : sub;
    if (typeof template === 'string') {
      const locals = Array.isArray(sub) && isObject(sub[1]) ? Object.keys(sub[1]) : [];
      for (const m of template.matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const name = m[1].split('.')[0];
        if (!name.startsWith('AWS::') && !locals.includes(name)) into.add(name);
      }
    }
    Object.values(value).forEach((v) => referencedIds(v, into));
  }
  return into;
}

/** True when `value` references a `NoEcho` parameter of `node`'s stack. */
export function referencesNoEchoParameter(node: CfnElement, value: unknown): boolean {
  for (const id of referencedIds(value)) {
    const element = findElement(node, id);
    if (element instanceof CfnParameter && safeResolve(node, element.noEcho) === true) return true;
  }
  return false;
}

/**
 * The strings `value` can become once CloudFormation evaluates it, with parts only CloudFormation knows
 * replaced by {@link UNKNOWN}. Follows `Fn::Join`, `Fn::Sub`, `Fn::If` (both branches), `Fn::Select`,
 * `Fn::FindInMap` (every value a key that is not known yet could pick) and parameters (their default and allowed
 * values). Capped, so a pathological template stays cheap.
 */
export function stringCandidates(node: CfnElement, value: unknown, depth = 0): string[] {
  if (depth > 20) return [UNKNOWN];
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (!isObject(value)) return [UNKNOWN];
  if (typeof value.Ref === 'string') return refCandidates(node, value.Ref);
  const join = value['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string') {
    const parts = listCandidates(node, join[1], depth + 1);
    return cap(parts.flatMap((items) => product(items.map((item) => stringCandidates(node, item, depth + 1))).map((p) => p.join(join[0]))));
  }
  if (value['Fn::Sub'] !== undefined) return subCandidates(node, value['Fn::Sub'], depth);
  const ifArgs = value['Fn::If'];
  if (Array.isArray(ifArgs) && ifArgs.length === 3) {
    return cap([...stringCandidates(node, ifArgs[1], depth + 1), ...stringCandidates(node, ifArgs[2], depth + 1)]);
  }
  const select = value['Fn::Select'];
  if (Array.isArray(select) && select.length === 2) {
    const index = typeof select[0] === 'number' ? select[0] : Number(select[0]);
    return cap(listCandidates(node, select[1], depth + 1).flatMap((items) =>
      Number.isInteger(index) && index >= 0 && index < items.length
        ? stringCandidates(node, items[index], depth + 1)
        : items.flatMap((item) => stringCandidates(node, item, depth + 1))));
  }
  const found = mapValues(node, value['Fn::FindInMap'], depth);
  if (found !== undefined) {
    return cap(found.flatMap((v) => (Array.isArray(v) ? [UNKNOWN] : stringCandidates(node, v, depth + 1))));
  }
  return [UNKNOWN];
}

/**
 * The values an `Fn::FindInMap` can return: the one its keys name, or, for a key CloudFormation decides (such as
 * `AWS::Region`), every value under the keys it could be; plus a `DefaultValue` (language extensions).
 * Undefined when `args` is not a lookup in a mapping of this stack.
 */
function mapValues(node: CfnElement, args: unknown, depth: number): unknown[] | undefined {
  if (!Array.isArray(args) || args.length < 3 || typeof args[0] !== 'string') return undefined;
  const element = findElement(node, args[0]);
  if (!(element instanceof CfnMapping)) return undefined;
  const rendered = safeResolve(node, (element as unknown as { _toCloudFormation(): unknown })._toCloudFormation());
  const mapping = isObject(rendered) && isObject(rendered.Mappings) ? rendered.Mappings[args[0]] : undefined;
  if (!isObject(mapping)) return undefined;
  const pick = (level: Record<string, unknown>, key: unknown): unknown[] => {
    const keys = stringCandidates(node, key, depth + 1);
    return keys.some((k) => k.includes(UNKNOWN))
      ? Object.values(level)
      : keys.filter((k) => Object.prototype.hasOwnProperty.call(level, k)).map((k) => level[k]);
  };
  const values = pick(mapping, args[1])
    .filter(isObject)
    .flatMap((second) => pick(second, args[2]));
  const fallback = isObject(args[3]) && 'DefaultValue' in args[3] ? [args[3].DefaultValue] : [];
  return [...values, ...fallback];
}

/**
 * The lists `value` can become: one entry per alternative (`Fn::If` branches, a list parameter's default), each
 * a list of element values (still intrinsics). An empty result means the list cannot be known at synth time.
 */
export function listCandidates(node: CfnElement, value: unknown, depth = 0): unknown[][] {
  if (depth > 20) return [];
  if (Array.isArray(value)) {
    return [value.filter((v) => !(isObject(v) && v.Ref === 'AWS::NoValue'))];
  }
  if (!isObject(value)) return [];
  const ifArgs = value['Fn::If'];
  if (Array.isArray(ifArgs) && ifArgs.length === 3) {
    return [...listCandidates(node, ifArgs[1], depth + 1), ...listCandidates(node, ifArgs[2], depth + 1)];
  }
  const found = mapValues(node, value['Fn::FindInMap'], depth);
  if (found !== undefined) {
    return found.flatMap((v) => (Array.isArray(v) ? [v] : listCandidates(node, v, depth + 1)));
  }
  const split = value['Fn::Split'];
  if (Array.isArray(split) && typeof split[0] === 'string') {
    return stringCandidates(node, split[1], depth + 1).filter((s) => !s.includes(UNKNOWN)).map((s) => s.split(split[0]));
  }
  if (typeof value.Ref === 'string') {
    const element = findElement(node, value.Ref);
    if (element instanceof CfnParameter) {
      const defaults = [element.default, ...(element.allowedValues ?? [])]
        .map((v) => safeResolve(node, v))
        .filter((v): v is string => typeof v === 'string');
      return defaults.map((d) => d.split(',').map((s) => s.trim()));
    }
  }
  return [];
}

function refCandidates(node: CfnElement, ref: string): string[] {
  if (ref === 'AWS::NoValue') return [''];
  if (ref.startsWith('AWS::')) return [UNKNOWN];
  const element = findElement(node, ref);
  if (element instanceof CfnParameter) {
    const values = [element.default, ...(element.allowedValues ?? [])]
      .map((v) => safeResolve(node, v))
      .filter((v) => v !== undefined && v !== null)
      .map((v) => String(v));
    return values.length > 0 ? cap([...new Set(values)]) : [UNKNOWN];
  }
  return [UNKNOWN];
}

function subCandidates(node: CfnElement, sub: unknown, depth: number): string[] {
  const template = Array.isArray(sub) ? sub[0] : sub;
  if (typeof template !== 'string') return [UNKNOWN];
  const variables = Array.isArray(sub) && isObject(sub[1]) ? sub[1] : {};
  const pieces: string[][] = [];
  let last = 0;
  for (const m of template.matchAll(/\$\{([^}]*)\}/g)) {
    pieces.push([template.slice(last, m.index)]);
    const name = m[1];
    if (name.startsWith('!')) {
      pieces.push([`\${${name.slice(1)}}`]);
    } else if (name in variables) {
      pieces.push(stringCandidates(node, variables[name], depth + 1));
    } else if (name.includes('.')) {
      pieces.push([UNKNOWN]);
    } else {
      pieces.push(refCandidates(node, name));
    }
    last = (m.index ?? 0) + m[0].length;
  }
  pieces.push([template.slice(last)]);
  return cap(product(pieces).map((p) => p.join('')));
}

function product(lists: string[][]): string[][] {
  let result: string[][] = [[]];
  for (const list of lists) {
    result = result.flatMap((prefix) => list.map((item) => [...prefix, item])).slice(0, MAX_CANDIDATES);
  }
  return result;
}

function cap(values: string[]): string[] {
  return values.slice(0, MAX_CANDIDATES);
}
