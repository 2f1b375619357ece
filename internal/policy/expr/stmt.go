package expr

func (c *compiler) block(b *blockStmt, newScope bool) execFn {
	if newScope {
		c.push()
		defer c.pop()
	}
	fns := make([]execFn, 0, len(b.stmts))
	for _, s := range b.stmts {
		fns = append(fns, c.stmt(s))
	}
	switch len(fns) {
	case 0:
		return func(*env) ctl { return ctlNone }
	case 1:
		return fns[0]
	}
	return func(e *env) ctl {
		for _, f := range fns {
			if r := f(e); r != ctlNone {
				return r
			}
		}
		return ctlNone
	}
}

func (c *compiler) stmt(s stmt) execFn {
	p := s.at()
	switch x := s.(type) {
	case *blockStmt:
		return c.block(x, true)
	case *emptyStmt:
		return func(*env) ctl { return ctlNone }
	case *declStmt:
		typ := ""
		if x.t != nil {
			typ = c.typeOf(x.t)
			if x.t.array > 0 {
				typ = "array"
			} else if x.t.nullable {
				typ = "?" + typ
			}
		}
		type d struct {
			slot int
			init evalFn
		}
		ds := make([]d, len(x.names))
		for i, name := range x.names {
			var init evalFn
			var it *sty
			if x.inits[i] != nil {
				init, it = c.exprT(x.inits[i])
			}
			ds[i] = d{slot: c.declare(p, name, convType(typ)), init: init}
			c.slotSty[ds[i].slot] = c.localType(name, x.t, it)
		}
		return func(e *env) ctl {
			e.pos = p
			e.step()
			for _, dd := range ds {
				if dd.init == nil {
					e.locals[dd.slot] = defaultOf(typ, nil)
					continue
				}
				v := dd.init(e)
				if v == chainStop {
					v = nil
				}
				if typ != "" && typ != "array" {
					v = implicitConv(v, typ)
				}
				e.locals[dd.slot] = v
			}
			return ctlNone
		}
	case *exprStmt:
		f := c.expr(x.x)
		return func(e *env) ctl {
			e.pos = p
			e.step()
			f(e)
			return ctlNone
		}
	case *ifStmt:
		cond := c.expr(x.c)
		c.push()
		then := c.stmt(x.then)
		c.pop()
		var els execFn
		if x.els != nil {
			c.push()
			els = c.stmt(x.els)
			c.pop()
		}
		return func(e *env) ctl {
			e.pos = p
			e.step()
			if truthy(cond(e)) {
				return then(e)
			}
			if els != nil {
				return els(e)
			}
			return ctlNone
		}
	case *whileStmt:
		cond := c.expr(x.c)
		c.loopDepth++
		c.push()
		body := c.stmt(x.body)
		c.pop()
		c.loopDepth--
		do := x.do
		return func(e *env) ctl {
			first := do
			for {
				e.pos = p
				e.step()
				if !first && !truthy(cond(e)) {
					return ctlNone
				}
				first = false
				switch body(e) {
				case ctlBreak:
					return ctlNone
				case ctlReturn:
					return ctlReturn
				}
			}
		}
	case *forStmt:
		c.push()
		defer c.pop()
		var inits []execFn
		for _, s := range x.init {
			inits = append(inits, c.stmt(s))
		}
		var cond evalFn
		if x.cond != nil {
			cond = c.expr(x.cond)
		}
		var posts []evalFn
		for _, n := range x.post {
			posts = append(posts, c.expr(n))
		}
		c.loopDepth++
		c.push()
		body := c.stmt(x.body)
		c.pop()
		c.loopDepth--
		return func(e *env) ctl {
			for _, f := range inits {
				f(e)
			}
			for {
				e.pos = p
				e.step()
				if cond != nil && !truthy(cond(e)) {
					return ctlNone
				}
				switch body(e) {
				case ctlBreak:
					return ctlNone
				case ctlReturn:
					return ctlReturn
				}
				for _, f := range posts {
					f(e)
				}
			}
		}
	case *foreachStmt:
		coll, ct := c.exprT(x.coll)
		c.push()
		defer c.pop()
		slot := c.declare(p, x.name, "")
		if !c.assigned[x.name] {
			c.slotSty[slot] = elemOf(ct)
		}
		c.loopDepth++
		body := c.stmt(x.body)
		c.loopDepth--
		return func(e *env) ctl {
			e.pos = p
			v := coll(e)
			if v == nil {
				throwNull("GetEnumerator")
			}
			items := iterate(e, v)
			for _, it := range items {
				e.step()
				e.locals[slot] = it
				switch body(e) {
				case ctlBreak:
					return ctlNone
				case ctlReturn:
					return ctlReturn
				}
			}
			return ctlNone
		}
	case *switchStmt:
		return c.switchStmt(x)
	case *tryStmt:
		return c.tryStmt(x)
	case *throwStmt:
		if x.x == nil {
			if c.inCatch == 0 {
				c.errf(p, "a throw statement with no arguments is not allowed outside of a catch clause")
			}
			return func(e *env) ctl {
				if e.caught != nil {
					panic(e.caught)
				}
				throwf("Exception", "rethrow")
				return ctlNone
			}
		}
		f := c.expr(x.x)
		return func(e *env) ctl {
			e.pos = p
			v := f(e)
			e.pos = p
			switch ex := v.(type) {
			case *csException:
				ex.line, ex.col = p.line, p.col
				panic(ex)
			case nil:
				throwf("NullReferenceException", "Object reference not set to an instance of an object.")
			}
			throwf("InvalidOperationException", "only exceptions can be thrown, not %s", typeName(v))
			return ctlNone
		}
	case *returnStmt:
		if x.x == nil {
			return func(e *env) ctl { e.ret = nil; return ctlReturn }
		}
		f := c.expr(x.x)
		return func(e *env) ctl {
			e.pos = p
			e.step()
			v := f(e)
			if v == chainStop {
				v = nil
			}
			e.ret = v
			return ctlReturn
		}
	case *jumpStmt:
		if x.kind == "break" {
			if c.loopDepth == 0 && c.switchDepth == 0 {
				c.errf(p, "no enclosing loop or switch out of which to break")
			}
			return func(*env) ctl { return ctlBreak }
		}
		if c.loopDepth == 0 {
			c.errf(p, "no enclosing loop out of which to continue")
		}
		return func(*env) ctl { return ctlContinue }
	}
	c.errf(p, "unsupported statement")
	return nil
}

// convType is the declared type used for implicit conversions on assignment.
func convType(typ string) string {
	switch typ {
	case "long", "double", "decimal", "int", "JToken", "?long", "?double", "?decimal":
		return typ
	}
	return ""
}

func (c *compiler) switchStmt(x *switchStmt) execFn {
	subj := c.expr(x.x)
	type cs struct {
		labels []evalFn
		isDef  bool
		body   execFn
	}
	c.switchDepth++
	defer func() { c.switchDepth-- }()
	c.push()
	defer c.pop()
	cases := make([]cs, len(x.cases))
	for i, k := range x.cases {
		cc := cs{isDef: k.isDef}
		for _, l := range k.labels {
			cc.labels = append(cc.labels, c.expr(l))
		}
		cc.body = c.block(&blockStmt{p: x.p, stmts: k.body}, false)
		cases[i] = cc
	}
	p := x.p
	loopDepth := c.loopDepth
	_ = loopDepth
	return func(e *env) ctl {
		e.pos = p
		e.step()
		v := subj(e)
		chosen := -1
	outer:
		for i, k := range cases {
			for _, l := range k.labels {
				if equals(v, l(e)) {
					chosen = i
					break outer
				}
			}
		}
		if chosen < 0 {
			for i, k := range cases {
				if k.isDef {
					chosen = i
				}
			}
		}
		if chosen < 0 {
			return ctlNone
		}
		switch r := cases[chosen].body(e); r {
		case ctlBreak, ctlNone:
			return ctlNone
		default:
			return r
		}
	}
}

func (c *compiler) tryStmt(x *tryStmt) execFn {
	body := c.block(x.body, true)
	type catchFn struct {
		typ  string
		slot int
		when evalFn
		body execFn
	}
	var catches []catchFn
	for _, k := range x.catches {
		c.push()
		cf := catchFn{typ: "Exception", slot: -1}
		if k.t != nil {
			cf.typ = exceptionType(k.t.name)
			if cf.typ == "" {
				c.errf(k.t.p, "'%s' is not an exception type", k.t.name)
			}
			if k.name != "" {
				cf.slot = c.declare(k.t.p, k.name, "")
				if !c.assigned[k.name] {
					c.slotSty[cf.slot] = stExc
				}
			}
		}
		if k.when != nil {
			cf.when = c.expr(k.when)
		}
		c.inCatch++
		cf.body = c.block(k.body, true)
		c.inCatch--
		c.pop()
		catches = append(catches, cf)
	}
	var fin execFn
	if x.finally != nil {
		fin = c.block(x.finally, true)
	}
	return func(e *env) (r ctl) {
		if fin != nil {
			defer func() {
				rec := recover()
				if fr := fin(e); fr != ctlNone {
					r = fr
				}
				if rec != nil {
					panic(rec)
				}
			}()
		}
		r, ex := runProtected(e, body)
		if ex == nil {
			return r
		}
		for _, k := range catches {
			if !ex.is(k.typ) {
				continue
			}
			if k.slot >= 0 {
				e.locals[k.slot] = ex
			}
			if k.when != nil && !truthy(k.when(e)) {
				continue
			}
			saved := e.caught
			e.caught = ex
			r = k.body(e)
			e.caught = saved
			return r
		}
		panic(ex)
	}
}

// runProtected runs f, turning a thrown C# exception into a return value.
// Budget errors are not exceptions and keep unwinding.
func runProtected(e *env, f execFn) (r ctl, ex *csException) {
	depth := len(e.stack)
	defer func() {
		if rec := recover(); rec != nil {
			ex = asException(rec)
			if ex == nil {
				panic(rec)
			}
			clear(e.stack[depth:])
			e.stack = e.stack[:depth]
		}
	}()
	return f(e), nil
}
