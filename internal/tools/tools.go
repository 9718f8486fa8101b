//go:build tools

package tools

import (
	_ "github.com/gin-gonic/gin"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/getkin/kin-openapi/openapi3filter"
	_ "github.com/pressly/goose/v3"
	_ "modernc.org/sqlite"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/hashicorp/golang-lru/v2/expirable"
	_ "golang.org/x/sync/singleflight"
	_ "github.com/google/uuid"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "golang.org/x/crypto/argon2"
)
