package schema

// UnmarshalEventReference exposes the encoding/json decoder to the
// external differential tests.
var UnmarshalEventReference = unmarshalEventReference
