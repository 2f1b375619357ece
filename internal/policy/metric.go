package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Metric is one value of emit-metric, for Context.Metric.
type Metric struct {
	Namespace, Name string
	Value           float64
	// Dimensions are in document order.
	Dimensions []MetricDimension
}

// MetricDimension is a name and its value.
type MetricDimension struct{ Name, Value string }

// maxMetricDimensions is APIM's limit of dimensions per metric.
const maxMetricDimensions = 5

// defaultDimensions are the dimensions whose value may be omitted: the
// request supplies it.
var defaultDimensions = map[string]func(c *Context) string{
	"API ID":          func(c *Context) string { return c.API.ID },
	"Operation ID":    func(c *Context) string { return c.Operation.ID },
	"Product ID":      func(c *Context) string { return c.Product.ID },
	"User ID":         func(c *Context) string { return c.User.ID },
	"Subscription ID": func(c *Context) string { return c.Subscription.ID },
	"Location":        func(*Context) string { return "" },
	"Gateway ID":      func(*Context) string { return "" },
}

// emitMetric is <emit-metric name namespace value><dimension name value/>…</emit-metric>.
type emitMetric struct {
	StepInfo
	name, namespace, value Value
	hasValue               bool
	dims                   []metricDim
}

type metricDim struct {
	name     string
	value    Value
	hasValue bool
}

func newEmitMetric(b *Builder) (Step, error) {
	s := &emitMetric{StepInfo: b.Info(), name: b.Val("name", true), namespace: b.Val("namespace", false)}
	if !b.Has("namespace") {
		s.namespace = Literal("API Management")
	}
	s.hasValue = b.Has("value")
	s.value = b.Val("value", false)
	if b.Err() == nil && s.hasValue && s.value.IsLiteral() {
		if _, err := strconv.ParseFloat(strings.TrimSpace(s.value.Lit()), 64); err != nil {
			b.Errorf("value", "attribute \"value\" must be a number")
		}
	}
	seen := map[string]bool{}
	for _, ch := range b.Children("dimension") {
		ch.NoChildren()
		d := metricDim{name: ch.Str("name", true), hasValue: ch.Has("value"), value: ch.Val("value", false)}
		if ch.Err() == nil {
			switch {
			case seen[strings.ToLower(d.name)]:
				ch.Errorf("name", "dimension %q appears twice", d.name)
			case !d.hasValue && defaultDimensions[d.name] == nil:
				ch.Errorf("", "dimension %q needs a value (only default dimensions such as \"API ID\" may omit it)", d.name)
			}
		}
		seen[strings.ToLower(d.name)] = true
		s.dims = append(s.dims, d)
		b.Close(ch)
	}
	if b.Err() == nil && len(s.dims) > maxMetricDimensions {
		b.Errorf("", "<emit-metric> takes at most %d dimensions", maxMetricDimensions)
	}
	return s, b.Err()
}

func (s *emitMetric) describe() string {
	d := fmt.Sprintf("name=%s namespace=%s", q(s.name), q(s.namespace))
	if s.hasValue {
		d += " value=" + q(s.value)
	}
	for _, dim := range s.dims {
		d += fmt.Sprintf(" dimension[%q", dim.name)
		if dim.hasValue {
			d += "=" + q(dim.value)
		}
		d += "]"
	}
	return d
}

func (s *emitMetric) Apply(c *Context) error {
	if c.Metric == nil {
		return nil
	}
	m := Metric{Value: 1}
	var err error
	if m.Name, err = s.name.String(c); err != nil {
		return err
	}
	if m.Namespace, err = s.namespace.String(c); err != nil {
		return err
	}
	if s.hasValue {
		v, err := s.value.String(c)
		if err != nil {
			return err
		}
		if m.Value, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return exprError(fmt.Errorf("emit-metric: value %q is not a number", v))
		}
	}
	for _, d := range s.dims {
		v := ""
		if d.hasValue {
			if v, err = d.value.String(c); err != nil {
				return err
			}
		} else {
			v = defaultDimensions[d.name](c)
		}
		m.Dimensions = append(m.Dimensions, MetricDimension{Name: d.name, Value: v})
	}
	c.Metric(m)
	return nil
}
