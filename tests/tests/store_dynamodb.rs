//! The store contract on DynamoDB, against moto's server on 127.0.0.1,
//! each test on a table of its own made from template.yaml.

use std::sync::Arc;

use desk::store::{DynamoStore, TicketStore};
use tests::aws;

async fn fresh() -> Option<Arc<dyn TicketStore>> {
    aws::moto()?;
    let client = aws_sdk_dynamodb::Client::new(&aws::sdk_config().await);
    let table = aws::unique_table("contract");
    aws::create_table(&client, &table).await;
    Some(Arc::new(DynamoStore::new(client, table, "test-estate")))
}

tests::store_contract_tests!(fresh);
