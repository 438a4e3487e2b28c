package hallmark.policy

decision := {"allow": true
