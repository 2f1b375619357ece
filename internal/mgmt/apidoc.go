package mgmt

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"
)

// The management API describes itself at /api/v1/openapi.json. The document
// is generated from the same kind and link tables that route requests, and
// the schemas from the model types, so it cannot drift from the code.

var apiDocOnce sync.Once
var apiDoc []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	apiDocOnce.Do(func() { apiDoc, _ = json.MarshalIndent(s.buildAPIDoc(), "", "  ") })
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(apiDoc)
}

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func (s *Server) buildAPIDoc() obj {
	schemas := obj{
		"Problem": obj{"type": "object", "properties": obj{
			"type": obj{"type": "string"}, "title": obj{"type": "string"}, "status": obj{"type": "integer"},
			"code": obj{"type": "string"}, "detail": obj{"type": "string"},
			"errors": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"field": obj{"type": "string"}, "message": obj{"type": "string"}}}},
		}},
	}
	paths := obj{}
	problem := obj{"description": "error", "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
	idParam := func(name string) obj {
		return obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string", "pattern": "^[a-z0-9_-]{1,80}$"}}
	}
	listParams := []obj{
		{"name": "top", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": maxTop}},
		{"name": "skip", "in": "query", "schema": obj{"type": "integer", "minimum": 0}},
		{"name": "filter", "in": "query", "description": "OData subset: name|displayName eq|ne 'v', contains(field,'v'), startswith(field,'v'), joined by and", "schema": obj{"type": "string"}},
	}
	ifMatch := obj{"name": "If-Match", "in": "header", "schema": obj{"type": "string"}}
	for _, k := range s.kinds {
		name := reflect.TypeOf(k.newObj()).Elem().Name()
		schemas[name] = schemaOf(reflect.TypeOf(k.newObj()).Elem())
		var params []obj
		if k.parent != nil {
			params = append(params, idParam(k.parent.idParam()))
		}
		one := obj{"description": k.title, "content": obj{"application/json": obj{"schema": ref(name)}}}
		list := obj{"description": "a page of " + k.collection, "content": obj{"application/json": obj{"schema": obj{"type": "object", "properties": obj{
			"value": obj{"type": "array", "items": ref(name)}, "count": obj{"type": "integer"}, "nextLink": obj{"type": "string"}}}}}}
		paths["/api/v1"+k.collectionPattern()] = obj{
			"get": obj{"operationId": "list-" + k.collection, "summary": "List " + k.collection, "tags": []string{k.collection},
				"parameters": append(append([]obj{}, params...), listParams...), "responses": obj{"200": list, "default": problem}},
		}
		itemParams := append(append([]obj{}, params...), idParam(k.idParam()))
		body := obj{"required": true, "content": obj{"application/json": obj{"schema": ref(name)}}}
		paths["/api/v1"+k.pattern()] = obj{
			"parameters": itemParams,
			"get":        obj{"operationId": "get-" + string(k.kind), "summary": "Get a " + k.title, "tags": []string{k.collection}, "responses": obj{"200": one, "default": problem}},
			"put": obj{"operationId": "put-" + string(k.kind), "summary": "Create or replace a " + k.title, "tags": []string{k.collection},
				"parameters":  []obj{ifMatch, {"name": "If-None-Match", "in": "header", "schema": obj{"type": "string"}}},
				"requestBody": body, "responses": obj{"200": one, "201": one, "default": problem}},
			"patch": obj{"operationId": "patch-" + string(k.kind), "summary": "Update a " + k.title + " (JSON merge patch)", "tags": []string{k.collection},
				"parameters": []obj{ifMatch}, "requestBody": obj{"required": true, "content": obj{"application/merge-patch+json": obj{"schema": obj{"type": "object"}}}},
				"responses": obj{"200": one, "default": problem}},
			"delete": obj{"operationId": "delete-" + string(k.kind), "summary": "Delete a " + k.title, "tags": []string{k.collection},
				"parameters": []obj{ifMatch}, "responses": obj{"204": obj{"description": "deleted"}, "default": problem}},
		}
	}
	for _, l := range s.links {
		base := "/api/v1" + l.from.pattern() + "/" + l.to.collection
		toName := reflect.TypeOf(l.to.newObj()).Elem().Name()
		fromParams := []obj{idParam(l.from.idParam())}
		paths[base] = obj{"get": obj{"operationId": "list-" + string(l.from.kind) + "-" + l.to.collection, "summary": "List the " + l.to.collection + " of a " + l.from.title,
			"tags": []string{l.from.collection}, "parameters": append(fromParams, listParams...),
			"responses": obj{"200": obj{"description": "a page", "content": obj{"application/json": obj{"schema": obj{"type": "object", "properties": obj{"value": obj{"type": "array", "items": ref(toName)}, "count": obj{"type": "integer"}}}}}}, "default": problem}}}
		item := obj{"parameters": append(fromParams, idParam("linkedId")),
			"get": obj{"operationId": "get-" + string(l.from.kind) + "-" + string(l.to.kind), "tags": []string{l.from.collection}, "responses": obj{"200": obj{"description": "linked"}, "404": problem}}}
		if !l.readOnly {
			item["put"] = obj{"operationId": "link-" + string(l.from.kind) + "-" + string(l.to.kind), "tags": []string{l.from.collection}, "responses": obj{"200": obj{"description": "already linked"}, "201": obj{"description": "linked"}, "default": problem}}
			item["delete"] = obj{"operationId": "unlink-" + string(l.from.kind) + "-" + string(l.to.kind), "tags": []string{l.from.collection}, "responses": obj{"204": obj{"description": "unlinked"}, "default": problem}}
		}
		paths[base+"/{linkedId}"] = item
	}
	secretsResp := obj{"description": "keys", "content": obj{"application/json": obj{"schema": obj{"type": "object", "properties": obj{"primaryKey": obj{"type": "string"}, "secondaryKey": obj{"type": "string"}}}}}}
	subParam := []obj{idParam("subscriptionId")}
	paths["/api/v1/subscriptions/{subscriptionId}/listSecrets"] = obj{"post": obj{"operationId": "list-subscription-secrets", "tags": []string{"subscriptions"}, "parameters": subParam, "responses": obj{"200": secretsResp, "default": problem}}}
	for _, which := range []string{"Primary", "Secondary"} {
		paths["/api/v1/subscriptions/{subscriptionId}/regenerate"+which+"Key"] = obj{"post": obj{"operationId": "regenerate-" + strings.ToLower(which) + "-key", "tags": []string{"subscriptions"}, "parameters": subParam, "responses": obj{"204": obj{"description": "regenerated"}, "default": problem}}}
	}
	paths["/api/v1/namedValues/{namedValueId}/listValue"] = obj{"post": obj{"operationId": "list-named-value", "tags": []string{"namedValues"}, "parameters": []obj{idParam("namedValueId")},
		"responses": obj{"200": obj{"description": "the value", "content": obj{"application/json": obj{"schema": obj{"type": "object", "properties": obj{"value": obj{"type": "string"}}}}}}, "default": problem}}}
	policyOps := func(id string, params []obj) obj {
		xmlBody := obj{"required": true, "content": obj{"application/xml": obj{"schema": obj{"type": "string"}}, "application/json": obj{"schema": ref("Policy")}}}
		resp := obj{"description": "the policy document", "content": obj{"application/xml": obj{"schema": obj{"type": "string"}}, "application/json": obj{"schema": ref("Policy")}}}
		o := obj{
			"get":    obj{"operationId": "get-" + id, "tags": []string{"policies"}, "responses": obj{"200": resp, "default": problem}},
			"put":    obj{"operationId": "put-" + id, "tags": []string{"policies"}, "requestBody": xmlBody, "responses": obj{"200": resp, "201": resp, "default": problem}},
			"delete": obj{"operationId": "delete-" + id, "tags": []string{"policies"}, "responses": obj{"204": obj{"description": "deleted"}, "default": problem}},
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		return o
	}
	schemas["Policy"] = obj{"type": "object", "properties": obj{"format": obj{"type": "string", "enum": []string{"rawxml"}}, "value": obj{"type": "string"}}}
	paths["/api/v1/policy"] = policyOps("global-policy", nil)
	paths["/api/v1/apis/{apiId}/policy"] = policyOps("api-policy", []obj{idParam("apiId")})
	paths["/api/v1/products/{productId}/policy"] = policyOps("product-policy", []obj{idParam("productId")})
	paths["/api/v1/apis/{apiId}/operations/{operationId}/policy"] = policyOps("operation-policy", []obj{idParam("apiId"), idParam("operationId")})
	addReportDocs(paths, problem)
	paths["/api/v1/auditLog"] = obj{"get": obj{"operationId": "list-audit-log", "tags": []string{"audit"}, "parameters": listParams[:2], "responses": obj{"200": obj{"description": "newest first"}, "default": problem}}}
	version := s.cfg.Version
	if version == "" {
		version = "dev"
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "Portico management API", "version": version,
			"description": "Configure APIs, operations, products, subscriptions, users, groups, backends, named values, policies and gateways. Authenticate with Authorization: Bearer <admin token>."},
		"servers":    []obj{{"url": "/"}},
		"security":   []obj{{"adminToken": []string{}}},
		"paths":      paths,
		"components": obj{"schemas": schemas, "securitySchemes": obj{"adminToken": obj{"type": "http", "scheme": "bearer"}}},
	}
}

var timeType = reflect.TypeOf(time.Time{})
var rawType = reflect.TypeOf(json.RawMessage{})

// schemaOf derives a JSON schema from a model type's JSON encoding.
func schemaOf(t reflect.Type) obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return obj{"type": "string", "format": "date-time"}
	case t == rawType:
		return obj{}
	}
	switch t.Kind() {
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return obj{"type": "integer"}
	case reflect.Float64:
		return obj{"type": "number"}
	case reflect.Slice:
		return obj{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := obj{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type)
		}
		return obj{"type": "object", "properties": props}
	}
	return obj{}
}
