package expr

import "testing"

// TestSignaturesFollowDispatch: every function of the dispatch tables has
// the member, with a parsed signature, that the save-time checks consult;
// the checks can then never refuse a member that the run time would find.
func TestSignaturesFollowDispatch(t *testing.T) {
	tablesOnce.Do(buildTables)
	for name, site := range propSites {
		for k, f := range site {
			if m := propSigs[name][k]; (f != nil) != (m != nil) || m != nil && m.sig == nil {
				t.Errorf("property %s on %s: function %v, member %v", name, kindNames[k], f != nil, m)
			}
		}
	}
	for name, site := range methodSites {
		for k, f := range site {
			if m := methodSigs[name][k]; (f != nil) != (m != nil) || m != nil && m.sig == nil {
				t.Errorf("method %s on %s: function %v, member %v", name, kindNames[k], f != nil, m)
			}
		}
	}
	for typ, fs := range statics {
		for name := range fs {
			if m := staticMembers[typ][name]; m == nil || m.sig == nil {
				t.Errorf("static %s.%s has no member", typ, name)
			}
		}
	}
	for typ, fs := range staticProps {
		for name := range fs {
			if m := staticPropMembers[typ][name]; m == nil || m.sig == nil {
				t.Errorf("static property %s.%s has no member", typ, name)
			}
		}
	}
	for typ := range ctors {
		if m := ctorMembers[typ]; m == nil || m.sig == nil || m.sig.arity == 0 {
			t.Errorf("constructor of %s has no member or no arity", typ)
		}
	}
	for _, m := range allMembers {
		if (m.class == mMethod || m.class == mStatic) && m.sig.arity == 0 {
			t.Errorf("%s: a method signature without argument counts", m.id())
		}
	}
}
