package web

import (
	"fmt"
	"log/slog"
	"mime"
	"net/smtp"
	"strings"
	"sync"
	"time"
)

// Message is one e-mail the portal sent or meant to send.
type Message struct {
	ID      int
	At      time.Time
	To      string
	Subject string
	Body    string
	// Status is "logged" (no SMTP configured), "sent" or "failed: …".
	Status string
}

// SMTPConfig configures delivery. Addr is host:port; with Username set,
// PLAIN authentication is used (net/smtp allows it only over TLS, which it
// starts with STARTTLS when offered, or to localhost).
type SMTPConfig struct {
	Addr     string
	From     string
	Username string
	Password string
}

// Mailer sends the portal's messages by SMTP when configured, and keeps
// every message in an in-memory outbox (the last MaxOutbox) that the admin
// console shows. Without SMTP the message is also written to the log.
type Mailer struct {
	SMTP *SMTPConfig
	Log  *slog.Logger

	mu     sync.Mutex
	nextID int
	box    []Message
}

// MaxOutbox bounds the outbox.
const MaxOutbox = 500

// Send records the message and delivers it (asynchronously with SMTP).
func (m *Mailer) Send(to, subject, body string) {
	m.mu.Lock()
	m.nextID++
	msg := Message{ID: m.nextID, At: time.Now().UTC(), To: to, Subject: subject, Body: body, Status: "logged"}
	if m.SMTP != nil && m.SMTP.Addr != "" {
		msg.Status = "sending"
	}
	m.box = append(m.box, msg)
	if len(m.box) > MaxOutbox {
		m.box = m.box[len(m.box)-MaxOutbox:]
	}
	m.mu.Unlock()
	log := m.Log
	if log == nil {
		log = slog.Default()
	}
	if msg.Status == "logged" {
		log.Info("portal e-mail (no SMTP configured; also in the admin console's outbox)", "to", to, "subject", subject, "body", body)
		return
	}
	go func() {
		err := m.deliver(msg)
		status := "sent"
		if err != nil {
			status = "failed: " + err.Error()
			log.Warn("portal e-mail not delivered", "to", to, "subject", subject, "err", err)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		for i := range m.box {
			if m.box[i].ID == msg.ID {
				m.box[i].Status = status
			}
		}
	}()
}

func (m *Mailer) deliver(msg Message) error {
	c := m.SMTP
	var auth smtp.Auth
	if c.Username != "" {
		host := c.Addr
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host = host[:i]
		}
		auth = smtp.PlainAuth("", c.Username, c.Password, host)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		c.From, msg.To, mime.QEncoding.Encode("utf-8", msg.Subject), msg.At.Format(time.RFC1123Z))
	b.WriteString(strings.ReplaceAll(msg.Body, "\n", "\r\n"))
	return smtp.SendMail(c.Addr, auth, c.From, []string{msg.To}, []byte(b.String()))
}

// Outbox returns the messages, newest first.
func (m *Mailer) Outbox() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Message, len(m.box))
	for i, msg := range m.box {
		out[len(m.box)-1-i] = msg
	}
	return out
}
