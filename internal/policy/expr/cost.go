package expr

import "math/bits"

// Charging the members whose work grows with the size of their receiver or
// of a collection argument. The call sites charge every call one step plus
// the strings and byte arrays it receives and returns (touchArgs,
// chargeResult), and iterate charges every enumeration; the members below
// walk a collection, a JSON or XML tree or a string builder without going
// through either, so registerCosts wraps them with a charge taken before
// they run.

// registerCosts wraps the members named here; it runs after every member is
// registered and before the call sites are built.
func registerCosts() {
	// Linear in the receiver's elements.
	chargeMethods(receiverElements, []kind{kList},
		"Insert", "Remove", "RemoveAt", "IndexOf", "LastIndexOf", "Contains", "Reverse", "GetRange",
		"CopyTo", "Clone", "Exists", "Find", "FindAll", "FindIndex", "FindLast", "ForEach", "RemoveAll",
		"TrueForAll", "ConvertAll")
	chargeMethods(receiverElements, []kind{kDict}, "ContainsValue", "Remove")
	chargeMethods(receiverElements, []kind{kJArray}, "Insert", "AddFirst", "RemoveAt", "IndexOf", "Contains", "Remove")
	chargeMethods(receiverElements, []kind{kJObject}, "Remove", "Properties", "Children")
	chargeProps(receiverElements, []kind{kDict}, "Keys", "Values")
	// n log n comparisons.
	chargeMethods(receiverSort, []kind{kList}, "Sort")
	// Whole trees: one step per node.
	jtok := []kind{kJObject, kJArray, kJProperty, kJValue}
	chargeMethods(receiverNodes, jtok, "DeepClone", "SelectToken", "SelectTokens", "Descendants",
		"DescendantsAndSelf", "Values", "ToString", "ToObject")
	chargeMethods(receiverAndArgNodes, jtok, "Merge")
	xml := []kind{kXDocument, kXElement}
	chargeMethods(receiverNodes, xml, "Descendants", "ToString")
	chargeMethods(receiverChildren, xml, "Elements", "Element", "RemoveAll")
	chargeProps(receiverNodes, xml, "Value")
	// String builders: their content is not charged on every Append (which
	// is amortised constant), only by the members that read or move it.
	chargeMethods(receiverBytes, []kind{kStringBuilder}, "ToString", "Insert", "Replace", "Remove")
	chargeProps(receiverBytes, []kind{kStringBuilder}, "Length")
	// Statics walking their arguments.
	for _, typ := range []string{"JObject", "JArray", "JToken"} {
		chargeStatic(typ, "FromObject", argNodes)
		chargeStatic(typ, "DeepEquals", argNodes)
	}
	chargeStatic("JsonConvert", "SerializeObject", argNodes)
	chargeStatic("JsonConvert", "ToString", argNodes)
	chargeStatic("Array", "IndexOf", argNodes)
	chargeStatic("Array", "Reverse", argNodes)
	chargeStatic("Array", "Sort", argNodes)
	chargeStatic("Array", "Copy", argNodes)
}

// A cost function charges e for a call on recv with args before it runs.
type costFn func(e *env, recv Value, args []Value)

func receiverElements(e *env, r Value, _ []Value) { e.elements(elementCount(r)) }

func receiverSort(e *env, r Value, _ []Value) {
	n := elementCount(r)
	e.elements(n * bits.Len(uint(n)))
}

func receiverNodes(e *env, r Value, _ []Value) { e.work(nodeCount(r, 0)) }

func receiverAndArgNodes(e *env, r Value, args []Value) {
	receiverNodes(e, r, args)
	argNodes(e, r, args)
}

func receiverChildren(e *env, r Value, _ []Value) {
	switch x := r.(type) {
	case *XElement:
		e.elements(len(x.Children) + len(x.Attrs))
	case *XDocument:
		if x.Root != nil {
			e.elements(len(x.Root.Children))
		}
	}
}

func receiverBytes(e *env, r Value, _ []Value) {
	if sb, ok := r.(*stringBuilder); ok {
		e.touch(sb.b.Len())
	}
}

func argNodes(e *env, _ Value, args []Value) {
	n := 0
	for _, a := range args {
		n += nodeCount(a, 0)
	}
	e.work(n)
}

func chargeMethods(cost costFn, ks []kind, names ...string) {
	for _, k := range ks {
		for _, name := range names {
			f, ok := methods[k][name]
			if !ok {
				continue
			}
			methods[k][name] = func(e *env, r Value, a []Value, cs *callSite) Value {
				cost(e, r, a)
				return f(e, r, a, cs)
			}
		}
	}
}

func chargeProps(cost costFn, ks []kind, names ...string) {
	for _, k := range ks {
		for _, name := range names {
			f, ok := props[k][name]
			if !ok {
				continue
			}
			props[k][name] = func(e *env, r Value) Value {
				cost(e, r, nil)
				return f(e, r)
			}
		}
	}
}

func chargeStatic(typ, name string, cost costFn) {
	f, ok := statics[typ][name]
	if !ok {
		return
	}
	statics[typ][name] = func(e *env, a []Value, cs *callSite) Value {
		cost(e, nil, a)
		return f(e, a, cs)
	}
}

// elementCount is the number of elements of a collection; 0 for other values.
func elementCount(v Value) int {
	switch x := v.(type) {
	case *List:
		return len(x.Items)
	case *Dict:
		return len(x.keys)
	case *Set:
		return len(x.d.keys)
	case *JArray:
		return len(x.items)
	case *JObject:
		return len(x.props)
	case []byte:
		return len(x)
	}
	return 0
}

// nodeCount is the number of nodes of a JSON or XML tree, or the elements of
// a collection (counting nested trees and collections), plus a node per
// BytesPerStep bytes of its strings. depth bounds the walk of hostile
// nesting; parsers refuse deeper documents anyway.
func nodeCount(v Value, depth int) int {
	if depth > 1000 {
		return 1
	}
	switch x := v.(type) {
	case string:
		return len(x)/BytesPerStep + 1
	case *JValue:
		return len(x.s)/BytesPerStep + 1
	case *JProperty:
		return 1 + len(x.Name)/BytesPerStep + nodeCount(x.Value, depth+1)
	case *JObject:
		n := 1
		for _, p := range x.props {
			n += nodeCount(p, depth+1)
		}
		return n
	case *JArray:
		n := 1
		for _, it := range x.items {
			n += nodeCount(it, depth+1)
		}
		return n
	case *XDocument:
		if x.Root == nil {
			return 1
		}
		return 1 + nodeCount(x.Root, depth+1)
	case *XElement:
		n := 1 + len(x.Attrs)
		for _, c := range x.Children {
			n += nodeCount(c, depth+1)
		}
		return n
	case *List:
		n := 1
		for _, it := range x.Items {
			n += nodeCount(it, depth+1)
		}
		return n
	case *Dict:
		n := 1
		for i := range x.keys {
			n += nodeCount(x.keys[i], depth+1) + nodeCount(x.vals[i], depth+1)
		}
		return n
	case []byte:
		return len(x)/BytesPerStep + 1
	}
	return 1
}
