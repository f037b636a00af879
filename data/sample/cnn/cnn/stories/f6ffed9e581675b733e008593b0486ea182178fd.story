Lisbon (Sample News) -- The new school in Lisbon opened on Monday after 33 months of work.

Mayor Anna said the school would serve the whole region

"We waited a long time for this," Anna told reporters.

About 330 people attended the opening ceremony.

@highlight

New school opens in Lisbon after 33 months

@highlight

Mayor Anna says it will serve the region
