// Package jsonschema validates JSON documents against a subset of JSON
// Schema draft 2020-12: the keywords rankscope's event schemas
// (docs/schema/*.schema.json) use, and a few neighbours.
//
// # Supported keywords
//
//   - type (string or array; "integer" is any number with a zero fraction)
//   - properties, required, additionalProperties, dependentRequired
//   - items (a single schema), minItems, maxItems
//   - enum, const (JSON equality: numbers by value)
//   - minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf
//     (exact decimal arithmetic; an instance beyond 10^±1000 is compared
//     by sign and magnitude, and fails multipleOf)
//   - minLength, maxLength (in Unicode code points), pattern (Go RE2
//     syntax, unanchored as in JSON Schema), format "date-time" (RFC 3339)
//     and "uuid", asserted rather than annotated
//   - allOf, anyOf, oneOf, not, if/then/else
//   - $ref to "#" or "#/$defs/<name>" in the same document
//   - annotations ($schema, $id, $comment, title, description, examples,
//     default, deprecated, readOnly, writeOnly) are ignored
//
// Any other keyword, an unknown format, or a remote reference is a compile
// error: a schema never passes an instance because a keyword was quietly
// skipped. Recursion through $ref is bounded (512 levels).
//
// # Use
//
//	s, err := jsonschema.Compile(schemaBytes)
//	err = s.Validate(instanceBytes) // *ValidationError lists every failure
//
// # Concurrency
//
// A compiled [Schema] is immutable and safe for concurrent use.
package jsonschema
