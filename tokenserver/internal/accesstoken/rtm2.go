package accesstoken

import (
	"fmt"
	"slices"
	"strings"
)

// ResourceType is the kind of resource an RTM2 (service 8) permission list covers.
type ResourceType uint16

// RTM2 resource types, numbered as in Agora's reference (Rtm2Resource...).
const (
	ResourceMessageChannels ResourceType = 0
	ResourceStreamChannels  ResourceType = 1
	ResourceGroupChannels   ResourceType = 2
	ResourceServerGroups    ResourceType = 3
	ResourceUsers           ResourceType = 4
)

var resourceNames = [...]string{"messageChannels", "streamChannels", "groupChannels", "serverGroups", "users"}

// String is the resource type's name as a Permissions key (messageChannels,
// streamChannels, groupChannels, serverGroups, users), or resource(N).
func (r ResourceType) String() string {
	if int(r) < len(resourceNames) {
		return resourceNames[r]
	}
	return fmt.Sprintf("resource(%d)", uint16(r))
}

// PermissionType says what a list of RTM2 resource names grants.
type PermissionType uint16

// RTM2 permission types, numbered as in Agora's reference (Rtm2Permission...).
const (
	PermissionRead  PermissionType = 0
	PermissionWrite PermissionType = 1
)

// String is "read", "write", or permission(N).
func (p PermissionType) String() string {
	switch p {
	case PermissionRead:
		return "read"
	case PermissionWrite:
		return "write"
	}
	return fmt.Sprintf("permission(%d)", uint16(p))
}

// Rtm2Resource is one resource type's entry in an RTM2 service, as found in a token.
type Rtm2Resource struct {
	Resource ResourceType
	Lists    []Rtm2List // in token order
}

// Rtm2List is one permission type's list of resource names.
type Rtm2List struct {
	Permission PermissionType
	Names      []string // in token order; may hold wildcards such as "room-*"
}

// Access is what one resource type grants: the names that may be read and the names
// that may be written. Either may be empty, not both.
type Access struct {
	Read, Write []string
}

// Permissions are the resource permissions of an RTM2 token, keyed by resource type
// name: messageChannels, streamChannels, groupChannels, serverGroups, users.
type Permissions map[string]Access

// Limits on Permissions, so that a token stays small enough for an HTTP header.
const (
	// MaxPermissionNames is the most names one read or write list may hold.
	MaxPermissionNames = 64
	// MaxPermissionBytes caps the sum of the lengths of all names in a Permissions.
	MaxPermissionBytes = 4096
	// maxResourceNameLen is the longest resource name: Signaling channel names and
	// user IDs are at most 64 bytes.
	maxResourceNameLen = 64
)

// validatePermissions checks perms and returns them as the RTM2 service lists them:
// resource types ascending, read before write, names in the order given. Errors name
// the field as permissions.<resource>[.read|.write[i]].
func validatePermissions(perms Permissions, pe *paramErrors) []Rtm2Resource {
	keys := make([]string, 0, len(perms))
	for k := range perms {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(resourceNames[:], k) {
			pe.check("permissions."+k, reasonf("unknown resource type; want one of %s", strings.Join(resourceNames[:], ", ")))
		}
	}
	var out []Rtm2Resource
	total := 0
	for i, name := range resourceNames {
		a, ok := perms[name]
		if !ok {
			continue
		}
		field := "permissions." + name
		if len(a.Read) == 0 && len(a.Write) == 0 {
			pe.check(field, reasonf("needs read or write names"))
			continue
		}
		r := Rtm2Resource{Resource: ResourceType(i)}
		for _, l := range []Rtm2List{{PermissionRead, a.Read}, {PermissionWrite, a.Write}} {
			if len(l.Names) == 0 {
				continue
			}
			lf := field + "." + l.Permission.String()
			if len(l.Names) > MaxPermissionNames {
				pe.check(lf, reasonf("at most %d names (got %d)", MaxPermissionNames, len(l.Names)))
			}
			for j, n := range l.Names {
				total += len(n)
				pe.check(fmt.Sprintf("%s[%d]", lf, j), validateResourceName(n))
			}
			r.Lists = append(r.Lists, l)
		}
		out = append(out, r)
	}
	if total > MaxPermissionBytes {
		pe.check("permissions", reasonf("the names add up to %d bytes, more than the %d allowed", total, MaxPermissionBytes))
	}
	return out
}

// validateResourceName checks one resource name: 1-64 bytes of printable ASCII, which
// includes the "*" of wildcards.
func validateResourceName(s string) error {
	if len(s) < 1 || len(s) > maxResourceNameLen {
		return reasonf("must be 1-%d bytes (got %d)", maxResourceNameLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return reasonf("must be printable ASCII (%s at offset %d)", describeByte(c), i)
		}
	}
	return nil
}

// SignalingWithPermissions mints a Signaling token for userID limited to the resources
// in perms: an RTM2 service (type 8) with the login privilege for expire seconds and
// perms' read and write lists. Without perms (nil or empty) it is the plain RTM token
// of Signaling. Agora enables RTM2 permissions on a project only on request.
func (m *Minter) SignalingWithPermissions(userID string, expire uint32, perms Permissions) (Minted, error) {
	if len(perms) == 0 {
		return m.Signaling(userID, expire)
	}
	var pe paramErrors
	pe.check("uid", ValidateUserID(userID))
	pe.check("expire", ValidateExpire(int64(expire)))
	resources := validatePermissions(perms, &pe)
	if err := pe.err(); err != nil {
		return Minted{}, err
	}
	sp := spec{expire: expire}
	s := sp.service(ServiceRTM2)
	s.UserID = userID
	sp.grant(PrivLogin, expire)
	s.Permissions = resources
	return m.mint(&sp)
}
