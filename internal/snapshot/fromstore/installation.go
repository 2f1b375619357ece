package fromstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/store"
)

// installationMetaID is the meta record holding the installation id.
const installationMetaID = "installation"

// installationDoc is the document of the installation meta record.
type installationDoc struct {
	ID string `json:"id"`
}

// EnsureInstallationID returns the id of the installation the store belongs
// to, generating it (128 random bits in hex) and storing it in a meta
// record the first time, so that it stays the same across restarts and for
// every management replica of the store. Load puts it in every
// configuration (snapshot.Config.InstallationID).
func EnsureInstallationID(ctx context.Context, st store.Store) (string, error) {
	if id, err := installationID(ctx, st); err != nil || id != "" {
		return id, err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	doc, err := json.Marshal(installationDoc{ID: hex.EncodeToString(b[:])})
	if err != nil {
		return "", err
	}
	var id string
	_, err = st.Update(ctx, func(tx store.Tx) error {
		if id, err = installationID(ctx, tx); err != nil || id != "" {
			return err // another replica won the race
		}
		if _, err := tx.Put(ctx, store.Record{Kind: string(model.KindMeta), ID: installationMetaID, Doc: doc}); err != nil {
			return err
		}
		id, err = installationID(ctx, tx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("installation id: %w", err)
	}
	return id, nil
}

// installationID reads the installation id; "" when there is none yet.
func installationID(ctx context.Context, rd store.Reader) (string, error) {
	rec, err := rd.Get(ctx, string(model.KindMeta), "", installationMetaID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("installation id: %w", err)
	}
	var d installationDoc
	if err := json.Unmarshal(rec.Doc, &d); err != nil {
		return "", fmt.Errorf("installation id: %w", err)
	}
	return d.ID, nil
}
