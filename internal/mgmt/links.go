package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/store"
)

// linkSpec exposes a relation as a sub-collection:
// /{from}/{fromId}/{to}/{toId} with GET (list), PUT (link), DELETE (unlink)
// and HEAD/GET on an item (is it linked). A reverse view lists the relation
// from its other end; readOnly views have no PUT or DELETE.
type linkSpec struct {
	rel      model.Relation
	from, to *kindSpec
	reverse  bool
	readOnly bool
	check    func(fromID string) error
}

func (l *linkSpec) ends(fromID, toID string) (a, b string) {
	if l.reverse {
		return toID, fromID
	}
	return fromID, toID
}

func (s *Server) routeLink(l *linkSpec) {
	base := "/api/v1" + l.from.pattern() + "/" + l.to.collection
	item := base + "/{linkedId}"
	s.mux.HandleFunc("GET "+base, func(w http.ResponseWriter, r *http.Request) { s.handleLinkList(w, r, l) })
	s.mux.HandleFunc("GET "+item, func(w http.ResponseWriter, r *http.Request) { s.handleLinkGet(w, r, l) })
	if l.readOnly {
		return
	}
	s.mux.HandleFunc("PUT "+item, func(w http.ResponseWriter, r *http.Request) { s.handleLinkPut(w, r, l) })
	s.mux.HandleFunc("DELETE "+item, func(w http.ResponseWriter, r *http.Request) { s.handleLinkDelete(w, r, l) })
}

func (s *Server) linkIDs(r *http.Request, l *linkSpec) (fromID, toID string, err error) {
	if _, fromID, err = l.from.ids(r); err != nil {
		return "", "", err
	}
	toID = r.PathValue("linkedId")
	if toID != "" && !model.ValidID(toID) {
		return "", "", fieldError(l.to.idParam(), "must be 1 to 80 lowercase letters, digits, '-' or '_', got %q", toID)
	}
	return fromID, toID, nil
}

func existsOr404(ctx context.Context, rd store.Reader, k *kindSpec, id string) error {
	if _, err := rd.Get(ctx, string(k.kind), "", id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(k.title + " " + strconv.Quote(id))
		}
		return err
	}
	return nil
}

func (s *Server) handleLinkList(w http.ResponseWriter, r *http.Request, l *linkSpec) {
	fromID, _, err := s.linkIDs(r, l)
	if err == nil {
		err = existsOr404(r.Context(), s.store, l.from, fromID)
	}
	top, skip := 0, 0
	if err == nil {
		top, skip, err = paging(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids, err := s.store.Links(r.Context(), string(l.rel), fromID, l.reverse)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total := len(ids)
	if skip > len(ids) {
		skip = len(ids)
	}
	ids = ids[skip:]
	if len(ids) > top {
		ids = ids[:top]
	}
	items := make([]json.RawMessage, 0, len(ids))
	for _, id := range ids {
		rec, err := s.store.Get(r.Context(), string(l.to.kind), "", id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		obj, err := l.to.decodeRecord(rec)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out, err := l.to.render("", id, obj)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		items = append(items, out)
	}
	writeJSON(w, http.StatusOK, listPage(r, items, total, top, skip))
}

func (s *Server) handleLinkGet(w http.ResponseWriter, r *http.Request, l *linkSpec) {
	fromID, toID, err := s.linkIDs(r, l)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, b := l.ends(fromID, toID)
	ok, err := s.store.HasLink(r.Context(), string(l.rel), a, b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.fail(w, r, notFound(l.to.title+" "+strconv.Quote(toID)+" in "+l.from.title+" "+strconv.Quote(fromID)))
		return
	}
	rec, err := s.store.Get(r.Context(), string(l.to.kind), "", toID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	obj, err := l.to.decodeRecord(rec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, _ := l.to.render("", toID, obj)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleLinkPut(w http.ResponseWriter, r *http.Request, l *linkSpec) {
	fromID, toID, err := s.linkIDs(r, l)
	if err == nil && l.check != nil {
		err = l.check(fromID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var out json.RawMessage
	created := false
	_, err = s.update(r.Context(), func(tx store.Tx) error {
		ctx := r.Context()
		if err := existsOr404(ctx, tx, l.from, fromID); err != nil {
			return err
		}
		rec, err := tx.Get(ctx, string(l.to.kind), "", toID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound(l.to.title + " " + strconv.Quote(toID))
		} else if err != nil {
			return err
		}
		a, b := l.ends(fromID, toID)
		had, err := tx.HasLink(ctx, string(l.rel), a, b)
		if err != nil {
			return err
		}
		created = !had
		if err := tx.Link(ctx, string(l.rel), a, b); err != nil {
			return err
		}
		obj, err := l.to.decodeRecord(rec)
		if err != nil {
			return err
		}
		if out, err = l.to.render("", toID, obj); err != nil {
			return err
		}
		return s.audit(ctx, tx, "link", string(l.rel), l.from.resourcePath("", fromID)+"/"+l.to.collection+"/"+toID)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, out)
}

func (s *Server) handleLinkDelete(w http.ResponseWriter, r *http.Request, l *linkSpec) {
	fromID, toID, err := s.linkIDs(r, l)
	if err == nil && l.check != nil {
		err = l.check(fromID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, err = s.update(r.Context(), func(tx store.Tx) error {
		ctx := r.Context()
		if err := existsOr404(ctx, tx, l.from, fromID); err != nil {
			return err
		}
		a, b := l.ends(fromID, toID)
		n, err := tx.Unlink(ctx, string(l.rel), a, b)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound(l.to.title + " " + strconv.Quote(toID) + " in " + l.from.title + " " + strconv.Quote(fromID))
		}
		return s.audit(ctx, tx, "unlink", string(l.rel), l.from.resourcePath("", fromID)+"/"+l.to.collection+"/"+toID)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
