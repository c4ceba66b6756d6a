package personalize

// UnmarshalEventReference exposes the encoding/json decoder to the
// external differential tests.
var UnmarshalEventReference = unmarshalEventReference
