package fromstore

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/snapshot"
)

func TestResponseExamples(t *testing.T) {
	rep := func(ct string, ex map[string]string) model.Representation {
		r := model.Representation{ContentType: ct, Schema: json.RawMessage(`{"type":"object"}`)}
		if ex != nil {
			r.Examples = map[string]model.Example{}
			for k, v := range ex {
				r.Examples[k] = model.Example{Summary: "s", Value: json.RawMessage(v)}
			}
		}
		return r
	}
	tests := []struct {
		name string
		op   model.Operation
		want []snapshot.ResponseExample
	}{
		{"no responses", model.Operation{}, nil},
		{"schema only", model.Operation{Responses: []model.ResponseDescription{{StatusCode: 200, Representations: []model.Representation{rep("application/json", nil)}}}}, nil},
		{"first example by name, per status and content type", model.Operation{Responses: []model.ResponseDescription{
			{StatusCode: 200, Representations: []model.Representation{
				rep("application/json", map[string]string{"b": `{"n":2}`, "a": `{"n":1}`}),
				rep("text/plain", map[string]string{"x": `"hi"`}),
			}},
			{StatusCode: 404, Representations: []model.Representation{rep("application/json", map[string]string{"nf": `{}`, "empty": ``})}},
		}}, []snapshot.ResponseExample{
			{StatusCode: 200, ContentType: "application/json", Value: json.RawMessage(`{"n":1}`)},
			{StatusCode: 200, ContentType: "text/plain", Value: json.RawMessage(`"hi"`)},
			{StatusCode: 404, ContentType: "application/json", Value: json.RawMessage(`{}`)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := responseExamples(&tc.op); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
