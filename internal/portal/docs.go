package portal

import (
	"time"

	"github.com/portico-gw/portico/internal/model"
)

// Documents as the management API renders them: the resource's short id
// ("name") and its properties.

type named struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

type userDoc struct {
	Name string `json:"name"`
	model.User
}

type apiDoc struct {
	Name string `json:"name"`
	model.API
}

type opDoc struct {
	Name string `json:"name"`
	model.Operation
}

type productDoc struct {
	Name string `json:"name"`
	model.Product
}

type subDoc struct {
	Name             string     `json:"name"`
	Scope            string     `json:"scope"`
	OwnerID          string     `json:"ownerId"`
	DisplayName      string     `json:"displayName"`
	State            string     `json:"state"`
	CreatedDate      *time.Time `json:"createdDate"`
	StartDate        *time.Time `json:"startDate"`
	ExpirationDate   *time.Time `json:"expirationDate"`
	NotificationDate *time.Time `json:"notificationDate"`
	StateComment     string     `json:"stateComment"`
}

type secrets struct {
	PrimaryKey   string `json:"primaryKey"`
	SecondaryKey string `json:"secondaryKey"`
}
