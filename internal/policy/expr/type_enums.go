package expr

// registerEnums registers the enum types of policy expressions, the
// enum-like constants StringComparer.* and CultureInfo.*, and the members of
// System.Enum. Enum values are enumValue (kind kEnum); defEnum numbers the
// members from 0, as .NET does for these enums except NumberStyles and
// DateTimeStyles, whose members are compared by name.
func registerEnums() {
	defEnum("StringComparison", "CurrentCulture", "CurrentCultureIgnoreCase", "InvariantCulture", "InvariantCultureIgnoreCase", "Ordinal", "OrdinalIgnoreCase")
	defEnum("StringSplitOptions", "None", "RemoveEmptyEntries", "TrimEntries")
	defEnum("NumberStyles", "None", "Integer", "HexNumber", "Number", "Float", "Any", "AllowHexSpecifier")
	defEnum("DateTimeStyles", "None", "AdjustToUniversal", "AssumeUniversal", "AssumeLocal", "RoundtripKind")
	defEnum("DateTimeKind", "Unspecified", "Utc", "Local")
	defEnum("DayOfWeek", dayNames...)
	defEnum("MidpointRounding", "ToEven", "AwayFromZero", "ToZero", "ToNegativeInfinity", "ToPositiveInfinity")
	defEnum("UriKind", "RelativeOrAbsolute", "Absolute", "Relative")
	defEnum("UriPartial", "Scheme", "Authority", "Path", "Query")
	defEnum("Formatting", "None", "Indented")
	defEnum("JTokenType", jtokenTypes...)
	defEnum("SaveOptions", "None", "DisableFormatting")
	ro := defType("RegexOptions", kEnum)
	for i, n := range []string{"None", "IgnoreCase", "Multiline", "ExplicitCapture", "Compiled", "Singleline", "IgnorePatternWhitespace", "RightToLeft", "ECMAScript", "CultureInvariant"} {
		v := enumValue{typ: "RegexOptions", name: n}
		if i > 0 {
			v.v = 1 << (i - 1)
		}
		switch n { // the values of .NET
		case "ECMAScript":
			v.v = 256
		case "CultureInvariant":
			v.v = 512
		}
		ro.staticProp(n, "RegexOptions", func(*env) Value { return v })
	}

	sc := defType("StringComparer", kEnum)
	sc.staticProp("OrdinalIgnoreCase", "StringComparer", func(*env) Value { return enumValue{typ: "StringComparer", name: "OrdinalIgnoreCase", v: 1} })
	sc.staticProp("InvariantCultureIgnoreCase", "StringComparer", func(*env) Value { return enumValue{typ: "StringComparer", name: "InvariantCultureIgnoreCase", v: 1} })
	sc.staticProp("CurrentCultureIgnoreCase", "StringComparer", func(*env) Value { return enumValue{typ: "StringComparer", name: "CurrentCultureIgnoreCase", v: 1} })
	sc.staticProp("Ordinal", "StringComparer", func(*env) Value { return enumValue{typ: "StringComparer", name: "Ordinal", v: 0} })
	ci := defType("CultureInfo", kEnum)
	ci.staticProp("InvariantCulture", "CultureInfo", func(*env) Value { return enumValue{typ: "CultureInfo", name: "InvariantCulture"} })
	ci.staticProp("CurrentCulture", "CultureInfo", func(*env) Value { return enumValue{typ: "CultureInfo", name: "InvariantCulture"} })

	t := defType("Enum", kEnum)
	t.method("HasFlag", "bool(1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		f, _ := a[0].(enumValue)
		return r.(enumValue).v&f.v == f.v
	})
}
