package jsonschema_test

import (
	"errors"
	"fmt"

	"github.com/rankscope/rankscope/internal/jsonschema"
)

func Example() {
	s, err := jsonschema.Compile([]byte(`{
		"type": "object",
		"required": ["id", "position"],
		"properties": {
			"id": {"type": "string", "minLength": 1},
			"position": {"type": "integer", "minimum": 1},
			"propensity": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
		},
		"additionalProperties": false
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Validate([]byte(`{"id":"sku-1","position":1,"propensity":0.5}`)))

	err = s.Validate([]byte(`{"id":"","position":0,"propensity":0,"postion":2}`))
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Failures {
			fmt.Println(f)
		}
	}
	// Output:
	// <nil>
	// /id: length 0, want at least 1 (/properties/id/minLength)
	// /position: 0 must be >= 1 (/properties/position/minimum)
	// /postion: property "postion" is not allowed (/additionalProperties)
	// /propensity: 0 must be > 0 (/properties/propensity/exclusiveMinimum)
}
