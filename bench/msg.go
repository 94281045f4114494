package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/titanframework/titan/bench/benchpb"
	"google.golang.org/protobuf/proto"
)

// The payload families (-family): what one call carries.
//
//   - string: a string of -payload bytes (bytes for gRPC, connect, NATS
//     and raw, which carry bytes only);
//   - bytes: a []byte of -payload bytes, for every system;
//   - message: one User, a realistic message of nine fields with a nested
//     struct and a list, its contract validated where the system validates;
//   - list: a Page of 50 Users.
//
// Netron's contract for User is derived from the Go types below; gRPC's
// anchor has the same fields in benchpb (proto/bench.proto), with the same
// values.
const (
	familyString  = "string"
	familyBytes   = "bytes"
	familyMessage = "message"
	familyList    = "list"
)

var families = []string{familyString, familyBytes, familyMessage, familyList}

// structured reports whether the family is a message or a list of them.
func structured(family string) bool { return family == familyMessage || family == familyList }

// Address is part of User.
type Address struct {
	Street string `json:"street" jsonschema:"minLength=1,maxLength=200"`
	City   string `json:"city" jsonschema:"minLength=1,maxLength=100"`
	Zip    string `json:"zip" jsonschema:"pattern=^[0-9]{5}$"`
}

// User is the realistic message.
type User struct {
	ID      int64    `json:"id" jsonschema:"minimum=1"`
	Name    string   `json:"name" jsonschema:"minLength=1,maxLength=100"`
	Email   string   `json:"email" jsonschema:"format=email"`
	Age     int32    `json:"age" jsonschema:"minimum=0,maximum=150"`
	Score   float64  `json:"score" jsonschema:"minimum=0,maximum=100"`
	Active  bool     `json:"active"`
	Role    string   `json:"role" jsonschema:"enum=admin,enum=member,enum=guest"`
	Tags    []string `json:"tags" jsonschema:"maxItems=20"`
	Address Address  `json:"address"`
}

// Page is the list family: a page of users.
type Page struct {
	Users []User `json:"users" jsonschema:"maxItems=100"`
}

// pageSize is the number of users on a page.
const pageSize = 50

func sampleUser(i int) User {
	return User{
		ID:     int64(1000 + i),
		Name:   "Ada Lovelace",
		Email:  fmt.Sprintf("ada.lovelace%d@analytical-engines.example", i),
		Age:    36,
		Score:  97.25,
		Active: true,
		Role:   "member",
		Tags:   []string{"mathematics", "engines", "poetry"},
		Address: Address{
			Street: "12 St James's Square",
			City:   "London",
			Zip:    "10001",
		},
	}
}

var (
	theUser = sampleUser(0)
	thePage = func() Page {
		p := Page{Users: make([]User, pageSize)}
		for i := range p.Users {
			p.Users[i] = sampleUser(i)
		}
		return p
	}()
	theUserPB = userPB(theUser)
	thePagePB = func() *benchpb.Page {
		p := &benchpb.Page{}
		for _, u := range thePage.Users {
			p.Users = append(p.Users, userPB(u))
		}
		return p
	}()
)

func userPB(u User) *benchpb.User {
	return &benchpb.User{
		Id: u.ID, Name: u.Name, Email: u.Email, Age: u.Age, Score: u.Score, Active: u.Active,
		Role: u.Role, Tags: slices.Clone(u.Tags),
		Address: &benchpb.Address{Street: u.Address.Street, City: u.Address.City, Zip: u.Address.Zip},
	}
}

// sameUser checks a reply field by field.
func sameUser(got, want User) error {
	if got.ID != want.ID || got.Name != want.Name || got.Email != want.Email || got.Age != want.Age ||
		got.Score != want.Score || got.Active != want.Active || got.Role != want.Role ||
		!slices.Equal(got.Tags, want.Tags) || got.Address != want.Address {
		return fmt.Errorf("bad answer: user %+v, want %+v", got, want)
	}
	return nil
}

func samePage(got, want Page) error {
	if len(got.Users) != len(want.Users) {
		return fmt.Errorf("bad answer: %d users, want %d", len(got.Users), len(want.Users))
	}
	for i := range got.Users {
		if err := sameUser(got.Users[i], want.Users[i]); err != nil {
			return err
		}
	}
	return nil
}

func sameUserPB(got *benchpb.User, want User) error {
	a := got.GetAddress()
	if got.GetId() != want.ID || got.GetName() != want.Name || got.GetEmail() != want.Email || got.GetAge() != want.Age ||
		got.GetScore() != want.Score || got.GetActive() != want.Active || got.GetRole() != want.Role ||
		!slices.Equal(got.GetTags(), want.Tags) || a.GetStreet() != want.Address.Street ||
		a.GetCity() != want.Address.City || a.GetZip() != want.Address.Zip {
		return fmt.Errorf("bad answer: user %v, want %+v", got, want)
	}
	return nil
}

func samePagePB(got *benchpb.Page, want Page) error {
	if len(got.GetUsers()) != len(want.Users) {
		return fmt.Errorf("bad answer: %d users, want %d", len(got.GetUsers()), len(want.Users))
	}
	for i, u := range got.GetUsers() {
		if err := sameUserPB(u, want.Users[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkFamily refuses an unknown family name.
func checkFamily(f string) error {
	if !slices.Contains(families, f) {
		return fmt.Errorf("unknown family %q (have %s)", f, strings.Join(families, ", "))
	}
	return nil
}

// opaquePayload is what the systems that carry bytes only (raw) echo for a
// structured family: the message's protobuf encoding, so that the ceiling
// moves as many bytes as gRPC does, without serialising anything.
func opaquePayload(family string) string {
	var m proto.Message = theUserPB
	if family == familyList {
		m = thePagePB
	}
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}
