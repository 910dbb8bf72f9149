package tokens

import (
	"time"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// Inspection is the answer of POST /v1/tokens/inspect: every field of the
// token, and what this server can say about it. The token itself is not
// echoed.
type Inspection struct {
	Version   string             `json:"version"`
	AppID     string             `json:"appId"`
	IssueTs   uint32             `json:"issueTs"`
	IssuedAt  string             `json:"issuedAt"`
	Expire    uint32             `json:"expire"`
	ExpiresAt string             `json:"expiresAt"`
	Salt      uint32             `json:"salt"`
	Services  []InspectedService `json:"services"`
	// UnreadServices is how many services the token declares after one of a
	// type this server does not know, which ends the reading.
	UnreadServices int    `json:"unreadServices,omitempty"`
	AppIDMatches   bool   `json:"appIdMatches"`
	SignatureValid bool   `json:"signatureValid"`
	Expired        bool   `json:"expired"`
	Mode           string `json:"mode"`
}

// InspectedService is one service of an inspected token, any of the ten
// AccessToken2 defines, named as accesstoken.ServiceType.String does (rtc,
// rtm, streaming, fpa, chat, fcdn, apaas, rtm2, convoai, stt), or one of a
// type it does not know ("unknown service type N"), the last one read.
type InspectedService struct {
	Type        uint16                `json:"type"`
	Name        string                `json:"name"`
	Channel     string                `json:"channel,omitempty"` // aPaaS: the room UUID
	UID         string                `json:"uid,omitempty"`     // aPaaS: the user UUID
	Role        *int16                `json:"role,omitempty"`    // aPaaS only
	Privileges  []InspectedPrivilege  `json:"privileges"`
	Permissions []InspectedPermission `json:"permissions,omitempty"` // RTM2 only
	// UnreadBytes counts the bytes after an unknown type's number, which only
	// its type could say how to read (the signature covers them).
	UnreadBytes int `json:"unreadBytes,omitempty"`
}

// InspectedPrivilege is one privilege of an inspected service.
type InspectedPrivilege struct {
	Privilege uint16 `json:"privilege"`
	Name      string `json:"name"`
	Expire    uint32 `json:"expire"`
	ExpiresAt string `json:"expiresAt"`
}

// InspectedPermission is one list of an RTM2 service: the resources of one
// type that may be read, or written.
type InspectedPermission struct {
	ResourceType   uint16   `json:"resourceType"`
	Resource       string   `json:"resource"`
	PermissionType uint16   `json:"permissionType"`
	Permission     string   `json:"permission"`
	Names          []string `json:"names"`
}

// Inspect checks a decoded token against m's app and certificate; a nil m
// (demo mode's CLI, which has no certificate) matches and verifies nothing.
// Services come in token order, repeated types too.
func Inspect(t *accesstoken.Token, m *accesstoken.Minter, now time.Time) Inspection {
	out := Inspection{
		Version:        t.Version,
		AppID:          t.AppID,
		IssueTs:        t.IssueTs,
		IssuedAt:       t.IssuedAt().UTC().Format(time.RFC3339),
		Expire:         t.Expire,
		ExpiresAt:      t.ExpiresAt().UTC().Format(time.RFC3339),
		Salt:           t.Salt,
		Services:       []InspectedService{},
		AppIDMatches:   t.AppID == m.AppID(),
		SignatureValid: m.Verify(t),
		Expired:        !now.Before(t.ExpiresAt()),
	}
	for _, s := range t.Services {
		is := InspectedService{Type: uint16(s.Type), Name: s.Type.String(), Channel: s.Channel, UID: s.UserID,
			Privileges: []InspectedPrivilege{}, UnreadBytes: len(s.Unread)}
		if s.Type == accesstoken.ServiceAPaaS {
			is.Role = &s.APaaSRole
		}
		for _, p := range s.Privileges {
			is.Privileges = append(is.Privileges, InspectedPrivilege{
				Privilege: uint16(p.Privilege),
				Name:      s.Type.PrivilegeName(p.Privilege),
				Expire:    p.Expire,
				ExpiresAt: t.IssuedAt().Add(time.Duration(p.Expire) * time.Second).UTC().Format(time.RFC3339),
			})
		}
		for _, r := range s.Permissions {
			for _, l := range r.Lists {
				is.Permissions = append(is.Permissions, InspectedPermission{
					ResourceType: uint16(r.Resource), Resource: r.Resource.String(),
					PermissionType: uint16(l.Permission), Permission: l.Permission.String(),
					Names: append([]string{}, l.Names...),
				})
			}
		}
		out.Services = append(out.Services, is)
	}
	out.UnreadServices = t.ServiceCount - len(t.Services)
	return out
}
