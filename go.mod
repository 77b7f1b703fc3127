module github.com/eddy-streams/eddy

go 1.26.8
