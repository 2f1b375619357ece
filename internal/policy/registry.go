package policy

import (
	"strings"
	"sync"
)

// Factory compiles one policy element. It reads the element through b
// (attributes, text, children), checks everything it can at compile time and
// returns the step. It must not keep b.
type Factory func(b *Builder) (Step, error)

// sectionMask says in which sections a policy may appear.
type sectionMask uint8

const (
	in  sectionMask = 1 << inbound
	be  sectionMask = 1 << backend
	out sectionMask = 1 << outbound
	oe  sectionMask = 1 << onError
	all             = in | be | out | oe
)

func (m sectionMask) String() string {
	var s []string
	for i, n := range sectionNames {
		if m&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return strings.Join(s, ", ")
}

type entry struct {
	sections sectionMask
	factory  Factory
}

var (
	registryOnce sync.Once
	registry     map[string]entry
)

// lookup returns the registry entry of a policy element.
func lookup(name string) (entry, bool) {
	registryOnce.Do(func() { registry = factories() })
	e, ok := registry[name]
	return e, ok
}

// factories maps element names to factories. It is this one explicit list:
// adding a policy means adding a line here.
func factories() map[string]entry {
	return map[string]entry{
		// flow
		"choose":          {all, newChoose},
		"set-variable":    {all, newSetVariable},
		"return-response": {all, newReturnResponse},
		"mock-response":   {in | out | oe, newMockResponse},
		"trace":           {all, newTrace},
		"emit-metric":     {all, newEmitMetric},
		"retry":           {all, newRetry},
		"wait":            {all, newWait},
		// routing
		"forward-request":     {be, newForwardRequest},
		"set-backend-service": {in | be, newSetBackendService},
		"rewrite-uri":         {in, newRewriteURI},
		"set-method":          {in | oe, newSetMethod},
		"proxy":               {in | be, newProxy},
		// external calls
		"send-request":         {all, newSendRequest},
		"send-one-way-request": {all, newSendOneWayRequest},
		// transformation
		"set-header":            {all, newSetHeader},
		"set-query-parameter":   {in | be, newSetQueryParameter},
		"set-body":              {all, newSetBody},
		"set-status":            {all, newSetStatus},
		"find-and-replace":      {all, newFindAndReplace},
		"json-to-xml":           {in | out | oe, newJSONToXML},
		"xml-to-json":           {in | out | oe, newXMLToJSON},
		"redirect-content-urls": {in | out, newRedirectContentURLs},
		// caching
		"cache-lookup":       {in, newCacheLookup},
		"cache-store":        {out, newCacheStore},
		"cache-lookup-value": {all, newCacheLookupValue},
		"cache-store-value":  {all, newCacheStoreValue},
		"cache-remove-value": {all, newCacheRemoveValue},
		// access
		"check-header":         {in, newCheckHeader},
		"ip-filter":            {in, newIPFilter},
		"cors":                 {in, newCORS},
		"authentication-basic": {in, newAuthenticationBasic},
		"validate-jwt":         {in, newValidateJWT},
		// limits
		"rate-limit":        {in, newRateLimit},
		"rate-limit-by-key": {in, newRateLimitByKey},
		"quota":             {in, newQuota},
		"quota-by-key":      {in, newQuotaByKey},
		"limit-concurrency": {all, newLimitConcurrency},
	}
}

// knownAPIM are APIM policies Portico does not implement yet: they are
// refused by name with "not supported by Portico yet".
var knownAPIM = map[string]bool{
	"log-to-eventhub": true, "validate-content": true,
	"validate-parameters": true, "validate-headers": true, "validate-status-code": true, "xsl-transform": true,
	"authentication-certificate": true, "authentication-managed-identity": true, "check-header-value": true,
	"azure-openai-token-limit": true, "llm-token-limit": true, "publish-to-dapr": true, "invoke-dapr-binding": true,
	"set-graphql-resolver": true, "validate-graphql-request": true, "json-to-xml-transform": true,
	"get-authorization-context": true, "validate-azure-ad-token": true, "validate-client-certificate": true,
	"cross-domain": true, "jsonp": true, "include": true, "limit-concurrency-by-key": true,
}
