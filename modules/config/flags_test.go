package config_test

import (
	"reflect"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    config.Flags
		wantErr bool
	}{
		{args: nil},
		{args: []string{"--config", "a.yaml", "--set=x.y=1", "-v", "--port", "80", "--print-config"},
			want: config.Flags{Files: []string{"a.yaml"}, Sets: []string{"x.y=1"}, PrintConfig: true}},
		{args: []string{"--config=b.toml", "--set", "k=v", "--", "--config", "ignored"},
			want: config.Flags{Files: []string{"b.toml"}, Sets: []string{"k=v"}}},
		{args: []string{"--config"}, wantErr: true},
		{args: []string{"--config", "--set"}, wantErr: true},
		{args: []string{"--set", "novalue"}, wantErr: true},
		{args: []string{"--print-config=yes"}, wantErr: true},
		{args: []string{"--print-config=true"}, want: config.Flags{PrintConfig: true}},
		{args: []string{"-print-config=1"}, want: config.Flags{PrintConfig: true}},
		{args: []string{"--print-config", "--print-config=false"}, want: config.Flags{}},
		{args: []string{"--print-config=false", "--print-config"}, want: config.Flags{PrintConfig: true}},
	}
	for _, tt := range tests {
		got, err := config.ParseFlags(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err = %v", tt.args, err)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.args, got, tt.want)
		}
	}
}
