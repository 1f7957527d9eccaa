/**
 * A schema's type check compiled to plain predicates, for the audit's hot
 * path: `Schema.is` walks its parser with `Either`s for every value of every
 * event, while a log of a million events needs only yes or no.
 *
 * The compiled guard follows the schema's AST node by node, so it never
 * drifts from the schema when the schema changes. Each refinement is checked
 * by its own filter, or, for Effect's usual ones (integer, bounds, lengths,
 * trimmed), by the predicate its annotations name, once the filter itself has
 * agreed with it on probe values. It is sound, not complete: whatever it
 * accepts, `Schema.is` accepts; a node it does not know (a transformation, a
 * declaration, a parse-option annotation) rejects, and the caller then asks
 * `Schema.is`.
 *
 * @module
 */
import { Option, Schema, SchemaAST } from "effect"

/** A yes-or-no check of a value. */
export type Guard = (value: unknown) => boolean

const reject: Guard = () => false

/** The options `Schema.is` parses with: its refinements' filters see these. */
const isOptions: SchemaAST.ParseOptions = { exact: true }

const isRecord = (value: unknown): value is Readonly<Record<PropertyKey, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const hasOwn = (value: object, key: PropertyKey): boolean => Object.hasOwn(value, key)

const typeLiteral = (ast: SchemaAST.TypeLiteral): Guard => {
  // No property and no index signature: Effect accepts anything but null and undefined.
  if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0)
    return (value) => value !== null && value !== undefined
  const properties = ast.propertySignatures.map((p) => ({
    name: p.name,
    optional: p.isOptional,
    guard: compileGuard(p.type),
  }))
  // Only string-keyed records: Effect's keys for other parameters are not mirrored here.
  if (ast.indexSignatures.some((s) => s.parameter._tag !== "StringKeyword")) return reject
  const values = ast.indexSignatures.map((s) => compileGuard(s.type))
  return (value) => {
    if (!isRecord(value)) return false
    for (const { name, optional, guard } of properties) {
      // `Schema.is` parses with `exact: true`: a required key must be present.
      if (!hasOwn(value, name)) {
        if (optional) continue
        return false
      }
      if (!guard(value[name])) return false
    }
    if (values.length > 0)
      for (const key of Object.keys(value)) for (const guard of values) if (!guard(value[key])) return false
    return true
  }
}

/** The literal `_tag` of a struct member, if it has a required one. */
const tagOf = (ast: SchemaAST.AST): SchemaAST.LiteralValue | undefined => {
  if (ast._tag !== "TypeLiteral") return undefined
  const tag = ast.propertySignatures.find((p) => p.name === "_tag")
  return tag !== undefined && !tag.isOptional && tag.type._tag === "Literal" ? tag.type.literal : undefined
}

const union = (ast: SchemaAST.Union): Guard => {
  const members = ast.types
  // A Set compares as `===` does, but for NaN, which no `===` accepts.
  if (members.every((m) => m._tag === "Literal" && !Number.isNaN(m.literal))) {
    const literals = new Set(members.map((m) => (m as SchemaAST.Literal).literal))
    return (value) => literals.has(value as SchemaAST.LiteralValue)
  }
  // Tagged structs: only the member of the value's tag can accept it, so go straight to it.
  const tags = members.map(tagOf)
  if (tags.every((t) => t !== undefined) && new Set(tags).size === tags.length) {
    const byTag = new Map(members.map((m, i) => [tags[i], compileGuard(m)]))
    return (value) => {
      if (!isRecord(value)) return false
      const guard = byTag.get(value._tag as SchemaAST.LiteralValue)
      return guard?.(value) === true
    }
  }
  const guards = members.map(compileGuard)
  return (value) => {
    for (const guard of guards) if (guard(value)) return true
    return false
  }
}

const tuple = (ast: SchemaAST.TupleType): Guard => {
  // Only arrays of one element type (`Schema.Array`).
  const [rest, ...more] = ast.rest
  if (ast.elements.length > 0 || rest === undefined || more.length > 0) return reject
  const element = compileGuard(rest.type)
  return (value) => {
    if (!Array.isArray(value)) return false
    // By index, as Effect reads it: a hole is an undefined element.
    for (let i = 0; i < value.length; i++) if (!element(value[i])) return false
    return true
  }
}

const numberProbes = (bound: number): ReadonlyArray<number> => [
  bound - 1,
  bound - 0.5,
  bound,
  bound + 0.5,
  bound + 1,
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
]
const lengthProbes = (length: number): ReadonlyArray<string> =>
  [length - 1, length, length + 1].filter((n) => n >= 0).map((n) => "x".repeat(n))

/** The predicate a refinement's schema id and JSON Schema annotation name, with values to try it on. */
const namedPredicate = (
  ast: SchemaAST.Refinement,
): { readonly guard: Guard; readonly probes: ReadonlyArray<unknown> } | undefined => {
  const json = ast.annotations[SchemaAST.JSONSchemaAnnotationId] as
    | Readonly<Record<string, unknown>>
    | undefined
  const bound = (key: string): number | undefined => {
    const value = json?.[key]
    return typeof value === "number" ? value : undefined
  }
  switch (ast.annotations[SchemaAST.SchemaIdAnnotationId]) {
    case Schema.IntSchemaId:
      return {
        guard: (value) => Number.isSafeInteger(value),
        probes: [0, -0, 1, -1, 1.5, 2 ** 53, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY],
      }
    case Schema.GreaterThanOrEqualToSchemaId: {
      const minimum = bound("minimum")
      return minimum === undefined
        ? undefined
        : { guard: (value) => (value as number) >= minimum, probes: numberProbes(minimum) }
    }
    case Schema.GreaterThanSchemaId: {
      const minimum = bound("exclusiveMinimum")
      return minimum === undefined
        ? undefined
        : { guard: (value) => (value as number) > minimum, probes: numberProbes(minimum) }
    }
    case Schema.MinLengthSchemaId: {
      const length = bound("minLength")
      return length === undefined
        ? undefined
        : { guard: (value) => (value as string).length >= length, probes: lengthProbes(length) }
    }
    case Schema.MaxLengthSchemaId: {
      const length = bound("maxLength")
      return length === undefined
        ? undefined
        : { guard: (value) => (value as string).length <= length, probes: lengthProbes(length) }
    }
    case Schema.TrimmedSchemaId:
      return {
        guard: (value) => value === (value as string).trim(),
        probes: ["", "a", " a", "a ", "\ta", "a\n", "\u00a0a", "a b"],
      }
    default:
      return undefined
  }
}

/**
 * A refinement's check after `from` has passed: the named predicate when the
 * filter agrees with it on every probe (the filter is Effect's own, with the
 * annotation it sets), else the filter itself, which is slower: it builds a
 * parse issue's `Option` for every value.
 */
const refinement = (ast: SchemaAST.Refinement): Guard => {
  const named = namedPredicate(ast)
  const agrees = named?.probes.every(
    (probe) => named.guard(probe) === Option.isNone(ast.filter(probe, isOptions, ast)),
  )
  return named !== undefined && agrees === true
    ? named.guard
    : (value) => Option.isNone(ast.filter(value, isOptions, ast))
}

/** A node whose parser outputs its input as is. */
const isPrimitive = (ast: SchemaAST.AST): boolean => {
  switch (ast._tag) {
    case "Literal":
    case "StringKeyword":
    case "NumberKeyword":
    case "BooleanKeyword":
      return true
    case "Refinement":
      return isPrimitive(ast.from)
    default:
      return false
  }
}

/**
 * The guard of a schema's type side: true only for values `Schema.is` accepts.
 *
 * @example
 * ```ts
 * const isEvent = compileGuard(SchemaAST.typeAST(MemberEvent.ast))
 * const valid = isEvent(candidate) || Schema.is(MemberEvent)(candidate)
 * ```
 */
export const compileGuard = (ast: SchemaAST.AST): Guard => {
  let guard = compiled.get(ast)
  if (guard === undefined) {
    guard = compile(ast)
    compiled.set(ast, guard)
  }
  return guard
}

/** A node met again (`Millis`, `Id` in most events) is compiled once. */
const compiled = new WeakMap<SchemaAST.AST, Guard>()

const compile = (ast: SchemaAST.AST): Guard => {
  // Annotations that change how Effect parses a node: leave the node to Effect.
  if (
    Option.isSome(SchemaAST.getParseOptionsAnnotation(ast)) ||
    Option.isSome(SchemaAST.getDecodingFallbackAnnotation(ast))
  )
    return reject
  switch (ast._tag) {
    case "Literal": {
      const literal = ast.literal
      return (value) => value === literal
    }
    case "UndefinedKeyword":
      return (value) => value === undefined
    case "StringKeyword":
      return (value) => typeof value === "string"
    case "NumberKeyword":
      return (value) => typeof value === "number"
    case "BooleanKeyword":
      return (value) => typeof value === "boolean"
    case "UnknownKeyword":
    case "AnyKeyword":
      return () => true
    case "Refinement": {
      // Effect filters what `from` outputs: the input itself only for a primitive.
      if (!isPrimitive(ast.from)) return reject
      const from = compileGuard(ast.from)
      const check = refinement(ast)
      return (value) => from(value) && check(value)
    }
    case "TypeLiteral":
      return typeLiteral(ast)
    case "Union":
      return union(ast)
    case "TupleType":
      return tuple(ast)
    default:
      return reject
  }
}
